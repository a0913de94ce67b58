//! The golden-file check every adapter's golden test shares: compare each expected file with
//! what the converter wrote now, or rewrite them all when `TSUNAGI_BLESS` is set.

use std::path::PathBuf;

/// Compares every `(expected file, actual text)` pair, or writes the files when blessing;
/// panics with the list of files that differ or are missing.
pub fn check_or_bless(outputs: impl IntoIterator<Item = (PathBuf, String)>, bless_command: &str) {
    let bless = std::env::var_os("TSUNAGI_BLESS").is_some();
    let mut failures = Vec::new();
    for (path, actual) in outputs {
        if bless {
            std::fs::write(&path, &actual).expect("write golden file");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == actual => {}
            Ok(_) => failures.push(format!("{} differs", path.display())),
            Err(_) => failures.push(format!("{} is missing", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (rerun with `{bless_command}` and review the diff):\n{}",
        failures.join("\n")
    );
}
