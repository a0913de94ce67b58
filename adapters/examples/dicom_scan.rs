//! Converts one DICOM path (file, folder, DICOMDIR or zip) the way `tsunagi convert --from
//! dicom` does, without the gateway (so a release build of the adapters alone is enough), and
//! prints one line: files, studies, instances, Bundle bytes, seconds, files/s.
//!
//! `cargo run --release -p tsunagi-adapters --example dicom_scan -- PATH` — used by
//! `benches/peers/dicom/run.sh` for the side-by-side run with pydicom.

use std::process::ExitCode;
use std::time::Instant;
use tsunagi_adapters::dicom::{convert_path, DicomOptions};
use tsunagi_adapters::SourceContext;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: dicom_scan PATH");
        return ExitCode::from(1);
    };
    let ctx = SourceContext::new("bench-hospital", "+09:00");
    let started = Instant::now();
    let converted = match convert_path(path.as_ref(), &ctx, &DicomOptions::default(), &mut |_| {}) {
        Ok(converted) => converted,
        Err(error) => {
            eprintln!("dicom_scan: {error}");
            return ExitCode::from(2);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let summary = converted.summary;
    println!(
        "files {} studies {} instances {} bundle_bytes {} seconds {:.3} files_per_s {:.0}",
        summary.files_scanned,
        summary.studies,
        summary.instances,
        converted.conversion.bundle_json.len(),
        seconds,
        summary.files_scanned as f64 / seconds.max(1e-9)
    );
    ExitCode::SUCCESS
}
