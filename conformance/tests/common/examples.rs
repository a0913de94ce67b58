//! The official FHIR R4 examples (`hl7.fhir.r4.examples@4.0.1`, CC0) from the npm registry,
//! fetched with `npm pack` into `~/.cache/tsunagi-fixtures` on first use.

use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "hl7.fhir.r4.examples@4.0.1";
const TARBALL: &str = "hl7.fhir.r4.examples-4.0.1.tgz";

/// The unpacked `package/` folder, or `None` (with the reason printed) when it cannot be had
/// outside CI. Under `CI` the test fails instead of skipping.
pub fn r4_examples_dir() -> Option<PathBuf> {
    match fetch() {
        Ok(dir) => Some(dir),
        Err(reason) if running_in_ci() => {
            panic!("CI is set and the R4 example package is unavailable: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPED: the R4 example package is unavailable: {reason}");
            None
        }
    }
}

/// True when `CI` is set to anything but empty, `0` or `false`.
pub fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

fn cache_root() -> PathBuf {
    std::env::var_os("TSUNAGI_FIXTURE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("tsunagi-fixtures")
}

fn fetch() -> Result<PathBuf, String> {
    let root = cache_root().join("hl7.fhir.r4.examples-4.0.1");
    let package = root.join("package");
    if package.join("package.json").is_file() {
        return Ok(package);
    }
    std::fs::create_dir_all(&root).map_err(|error| format!("cannot create {root:?}: {error}"))?;
    // Unpack into a scratch folder and rename, so a half-finished fetch is never used.
    let scratch = root.join(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|error| error.to_string())?;
    run(Command::new("npm")
        .args(["pack", PACKAGE, "--silent", "--pack-destination"])
        .arg(&scratch))?;
    run(Command::new("tar")
        .arg("-xzf")
        .arg(scratch.join(TARBALL))
        .arg("-C")
        .arg(&scratch))?;
    match std::fs::rename(scratch.join("package"), &package) {
        Ok(()) => {}
        Err(_) if package.join("package.json").is_file() => {} // another test won the race
        Err(error) => return Err(format!("cannot move the unpacked package: {error}")),
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(package)
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|error| format!("cannot run {command:?}: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
