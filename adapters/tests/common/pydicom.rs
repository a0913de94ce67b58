//! pydicom as the reference DICOM reader our adapter is compared with. A pinned wheel is
//! fetched once into `$HOME/.cache/tsunagi-fixtures/pydicom-<version>/` (never into the
//! repository) and run through `tests/support/pydicom_facts.py`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Once, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// The pinned pydicom release (the latest 3.x when pinned). `tests/data/dicom/generate.py`
/// insists on the same version, because the bytes it writes depend on it.
pub const PYDICOM_VERSION: &str = "3.0.2";

/// The wheel's file name, its SHA-256 as the PyPI index lists it, and its direct URL for when
/// pip cannot fetch it.
const WHEEL_NAME: &str = "pydicom-3.0.2-py3-none-any.whl";
const WHEEL_SHA256: &str = "abf971a5440f84dbaf42c4b6758e30e62480902584f8b270b9a5d146e278a07b";
const WHEEL_URL: &str = "https://files.pythonhosted.org/packages/46/e0/\
    60466c6d712dad2cf807df315e39863e91609ffd1064ecb835994460bbda/pydicom-3.0.2-py3-none-any.whl";

/// The folder holding the unpacked `pydicom/` package (put it on PYTHONPATH), fetched on first
/// use. `None` (after saying why) when it cannot be fetched outside CI; a panic in CI.
pub fn pydicom_root() -> Option<PathBuf> {
    // One fetch per test binary; other binaries running at the same time are handled by the
    // atomic rename in `fetch_pydicom`.
    static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match ROOT.get_or_init(fetch_pydicom) {
        Ok(root) => Some(root.clone()),
        Err(reason) if std::env::var_os("CI").is_some() => {
            panic!("pydicom {PYDICOM_VERSION} is unavailable and CI is set: {reason}")
        }
        Err(reason) => {
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                eprintln!("skipping: pydicom {PYDICOM_VERSION} is unavailable: {reason}")
            });
            None
        }
    }
}

/// pydicom's own sample files as shipped in the wheel (`pydicom/data/test_files`, with the
/// DICOMDIR sets under `dicomdirtests/`). pydicom 3 downloads its larger samples at run
/// time; we only use what the wheel ships.
pub fn pydicom_test_files() -> Option<PathBuf> {
    pydicom_root().map(|root| root.join("pydicom/data/test_files"))
}

/// pydicom's character-set samples (`pydicom/data/charset_files`): the Japanese `chrH31.dcm`,
/// `chrH32.dcm`, `chrJapMulti.dcm`, `chrJapMultiExplicitIR6.dcm` and the other languages.
/// They are not under `test_files`.
pub fn pydicom_charset_files() -> Option<PathBuf> {
    pydicom_root().map(|root| root.join("pydicom/data/charset_files"))
}

/// What pydicom reads from each file, one JSON object per file in the same order (keys in
/// `tests/support/pydicom_facts.py`). Panics when pydicom is unavailable (check
/// `pydicom_root()` first) or the script fails.
pub fn pydicom_facts(files: &[PathBuf]) -> Vec<serde_json::Value> {
    if files.is_empty() {
        return Vec::new();
    }
    let root = pydicom_root().expect("pydicom is unavailable: check pydicom_root() first");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pydicom_facts.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(files)
        .env("PYTHONPATH", &root)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{} failed ({}): {}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let facts: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("pydicom_facts.py prints one JSON array");
    assert_eq!(facts.len(), files.len(), "one object per file");
    facts
}

fn fetch_pydicom() -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let cache = Path::new(&home).join(".cache/tsunagi-fixtures");
    let root = cache.join(format!("pydicom-{PYDICOM_VERSION}"));
    if is_unpacked(&root) {
        return Ok(root);
    }
    std::fs::create_dir_all(&cache).map_err(|error| format!("{}: {error}", cache.display()))?;
    // Everything happens in a scratch folder of our own; only the final rename publishes the
    // package, so a concurrent test never sees half of it.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let scratch = cache.join(format!(
        ".pydicom-{PYDICOM_VERSION}.{}.{nanos}",
        std::process::id()
    ));
    let result = download_and_unpack(&scratch, &root);
    // Best effort: a leftover scratch folder is harmless.
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn download_and_unpack(scratch: &Path, root: &Path) -> Result<PathBuf, String> {
    let download = scratch.join("download");
    std::fs::create_dir_all(&download)
        .map_err(|error| format!("{}: {error}", download.display()))?;
    let wheel = download.join(WHEEL_NAME);
    let pip = run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .arg(format!("pydicom=={PYDICOM_VERSION}"))
        .arg("-d")
        .arg(&download));
    if !wheel.is_file() {
        let curl = run(Command::new("curl")
            .args(["-fsSL", "--retry", "2", "-o"])
            .arg(&wheel)
            .arg(WHEEL_URL));
        if !wheel.is_file() {
            return Err(format!(
                "pip download failed ({}); curl failed ({})",
                pip.err()
                    .unwrap_or_else(|| format!("no {WHEEL_NAME} written")),
                curl.err()
                    .unwrap_or_else(|| format!("no {WHEEL_NAME} written"))
            ));
        }
    }
    let digest = capture(
        Command::new("python3")
            .args([
                "-c",
                "import hashlib, sys; \
                 print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())",
            ])
            .arg(&wheel),
    )?;
    if digest.trim() != WHEEL_SHA256 {
        return Err(format!(
            "{WHEEL_NAME} has SHA-256 {}, expected {WHEEL_SHA256}",
            digest.trim()
        ));
    }
    let unpacked = scratch.join("unpacked");
    run(Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&unpacked))?;
    if !is_unpacked(&unpacked) {
        return Err(format!("{WHEEL_NAME} holds no pydicom package"));
    }
    match std::fs::rename(&unpacked, root) {
        Ok(()) => Ok(root.to_path_buf()),
        // Another test process published the same package first.
        Err(_) if is_unpacked(root) => Ok(root.to_path_buf()),
        Err(error) => Err(format!(
            "cannot move the unpacked wheel to {} ({error}); delete that folder and retry",
            root.display()
        )),
    }
}

fn is_unpacked(root: &Path) -> bool {
    root.join("pydicom/__init__.py").is_file() && root.join("pydicom/data/test_files").is_dir()
}

fn run(command: &mut Command) -> Result<(), String> {
    capture(command).map(drop)
}

/// Runs `command`, returning its stdout, or why it failed (with its stderr).
fn capture(command: &mut Command) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|error| format!("{command:?}: {error}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
