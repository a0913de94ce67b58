//! Writes a made-up SS-MIX2 standard-storage tree (see `tsunagi_adapters::ssmix2::generate`)
//! for trying and measuring `tsunagi ingest --from ssmix2`:
//! `cargo run --release -p tsunagi-adapters --example ssmix2_generate -- DIR [PATIENTS]`.

use std::path::PathBuf;
use std::process::ExitCode;
use tsunagi_adapters::ssmix2::generate;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next().map(PathBuf::from) else {
        eprintln!("usage: ssmix2_generate DIR [PATIENTS (default 1000)]");
        return ExitCode::from(2);
    };
    let patients = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let mut files = 0;
    for file in generate::generate(patients) {
        let path = root.join(&file.path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, &file.bytes));
        if let Err(error) = written {
            eprintln!("{}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        files += 1;
    }
    eprintln!(
        "{files} files for {patients} patients under {}",
        root.display()
    );
    ExitCode::SUCCESS
}
