//! A temporary directory for one benchmark's database, removed when dropped.

use std::path::PathBuf;

/// `$TMPDIR/tsunagi-bench-<label>-<pid>`, emptied on creation and removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory for `label`.
    pub fn fresh(label: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("tsunagi-bench-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the benchmark's temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
