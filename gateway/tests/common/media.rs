//! Test media: the adapters' made-up DICOM discs and files, packed as clients send them.

use std::io::Write;
use std::path::{Path, PathBuf};

/// `adapters/tests/data/dicom/{relative}`.
pub fn dicom_data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters/tests/data/dicom")
        .join(relative)
}

/// Every file under `root` in a zip archive, entries named by their path below `root` (as on
/// the media), in name order.
pub fn folder_zip(root: &Path) -> Vec<u8> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("media folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for file in files {
        let name = file
            .strip_prefix(root)
            .expect("inside the media")
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        writer.start_file(name, options).expect("zip entry");
        writer
            .write_all(&std::fs::read(&file).expect("media file"))
            .expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}
