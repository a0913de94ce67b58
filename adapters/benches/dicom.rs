//! DICOM header scan → ImagingStudy Bundle over a folder of 1,000+ files (criterion).
//!
//! The folder is `TSUNAGI_DICOM_BENCH_DIR` when set (e.g. the one
//! `benches/peers/dicom/run.sh` makes for the side-by-side run with pydicom), else a temporary
//! folder filled with copies of the generated test media. Run:
//! `cargo bench -p tsunagi-adapters --bench dicom`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};
use tsunagi_adapters::dicom::{convert_path, DicomOptions};
use tsunagi_adapters::SourceContext;

const COPIES_TO_REACH: usize = 1_000;

fn dicom_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            dicom_files(&path, out);
        } else if std::fs::read(&path)
            .map(|bytes| bytes.get(128..132) == Some(b"DICM"))
            .unwrap_or(false)
            && !path.ends_with("DICOMDIR")
        {
            out.push(path);
        }
    }
}

/// A folder of at least 1,000 DICOM files and their count.
fn bench_folder() -> (PathBuf, usize, Option<PathBuf>) {
    if let Some(dir) = std::env::var_os("TSUNAGI_DICOM_BENCH_DIR") {
        let dir = PathBuf::from(dir);
        let mut files = Vec::new();
        dicom_files(&dir, &mut files);
        return (dir, files.len(), None);
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom");
    let mut sources = Vec::new();
    dicom_files(&data.join("cd-ct"), &mut sources);
    dicom_files(&data.join("single"), &mut sources);
    let dir = std::env::temp_dir().join(format!("tsunagi-dicom-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp folder");
    let mut count = 0;
    while count < COPIES_TO_REACH {
        for source in &sources {
            let target = dir.join(format!("f{count:05}.dcm"));
            std::fs::copy(source, target).expect("copy");
            count += 1;
        }
    }
    (dir.clone(), count, Some(dir))
}

fn scan(c: &mut Criterion) {
    let (dir, files, cleanup) = bench_folder();
    let ctx = SourceContext::new("bench-hospital", "+09:00");
    let options = DicomOptions::default();
    let mut group = c.benchmark_group("dicom_scan");
    group.sample_size(10);
    group.throughput(Throughput::Elements(files as u64));
    group.bench_function(format!("folder_{files}_files"), |b| {
        b.iter(|| {
            let converted = convert_path(&dir, &ctx, &options, &mut |_| {}).expect("scans");
            assert!(converted.summary.studies > 0);
            converted
        })
    });
    group.finish();
    if let Some(dir) = cleanup {
        let _ = std::fs::remove_dir_all(dir);
    }
}

criterion_group!(benches, scan);
criterion_main!(benches);
