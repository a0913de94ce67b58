//! Validates one JSON or XML file against base R4 (and `--profile URL`s) and prints the issues
//! with the time taken: `cargo run -p tsunagi-profiles --example validate_file -- FILE`.

use tsunagi_profiles::validate::{ValidateOptions, Validator};
use tsunagi_profiles::Format;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: validate_file FILE [PROFILE…]");
        std::process::exit(2);
    };
    let Ok(bytes) = std::fs::read(file) else {
        eprintln!("cannot read {file}");
        std::process::exit(2);
    };
    let format = if file.ends_with(".xml") {
        Format::Xml
    } else {
        Format::Json
    };
    let options = ValidateOptions {
        profiles: args[1..].to_vec(),
        ..ValidateOptions::default()
    };
    let validator = Validator::r4_core();
    let outcome = validator.validate_bytes(&bytes, format, &options);
    for issue in &outcome.issues {
        println!(
            "{:?} {}: {} {:?}",
            issue.severity, issue.expression, issue.message, issue.position
        );
    }
    println!("{} errors", outcome.error_count());
}
