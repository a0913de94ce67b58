//! Helpers shared by the integration tests that read the public samples under `shared/data/`
//! (beside the repository, never copied into it), and pydicom as a reference reader.
#![allow(dead_code)]

pub mod golden;
pub mod pydicom;

use std::path::{Path, PathBuf};

/// `shared/data/<relative>` next to the workspace, or `None` (after saying why) when absent
/// outside CI.
pub fn shared_folder(relative: &str) -> Option<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(relative);
    if folder.is_dir() {
        return Some(folder);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{} is missing and CI is set", folder.display());
    }
    eprintln!(
        "skipping: {} is absent (sample data lives outside the repository)",
        folder.display()
    );
    None
}

/// Every file under `folder`, recursively, sorted.
pub fn files_under(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
