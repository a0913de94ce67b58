//! Converts HL7 v2 files and prints each message's Bundle and report as pretty JSON: a quick
//! way to look at what the mapping does with a sample.
//!
//! `cargo run -p tsunagi-adapters --example hl7v2_convert -- FILE… [--institution NAME]`

use std::process::ExitCode;
use tsunagi_adapters::hl7v2::{convert_all, Hl7Options};
use tsunagi_adapters::SourceContext;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut institution = "example".to_owned();
    if let Some(at) = args.iter().position(|arg| arg == "--institution") {
        if at + 1 < args.len() {
            institution = args.remove(at + 1);
        }
        args.remove(at);
    }
    let ctx = SourceContext::new(institution, "+09:00");
    let mut failed = false;
    for path in &args {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("{path}: {error}");
                failed = true;
                continue;
            }
        };
        for (raw, result) in convert_all(&bytes, &ctx, &Hl7Options::default()) {
            println!("== {path} message {}", raw.ordinal);
            match result {
                Ok(conversion) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&conversion.bundle()).unwrap_or_default()
                    );
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&conversion.report.to_json())
                            .unwrap_or_default()
                    );
                }
                Err(error) => {
                    failed = true;
                    println!("error: {error}");
                }
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
