//! Reading one FHIR NPM package: a `.tgz` as published, or an unpacked folder holding
//! `package/package.json` (or `package.json` itself). Only the JSON resources at the top of
//! `package/` whose type the registry indexes are kept; examples and other folders are not read.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::registry::{is_indexed_type, PackageError};

/// The largest single file read from a package.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The most bytes of resources read from one package.
const MAX_PACKAGE_BYTES: u64 = 1024 * 1024 * 1024;
/// The most files looked at in one package.
const MAX_ENTRIES: usize = 200_000;

/// What `package.json` says of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageManifest {
    /// The package name (`hl7.fhir.r4.core`, `jp-core.r4`).
    pub name: String,
    /// Its version.
    pub version: String,
    /// The packages it depends on, by name and version.
    pub dependencies: Vec<(String, String)>,
}

impl PackageManifest {
    fn parse(bytes: &[u8], source: &Path) -> Result<PackageManifest, PackageError> {
        let json: Value = serde_json::from_slice(bytes).map_err(|error| PackageError::Invalid {
            origin: source.display().to_string(),
            reason: format!("package.json is not JSON: {error}"),
        })?;
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        let (Some(name), Some(version)) = (text("name"), text("version")) else {
            return Err(PackageError::Invalid {
                origin: source.display().to_string(),
                reason: "package.json lacks name or version".into(),
            });
        };
        let dependencies = json
            .get("dependencies")
            .and_then(Value::as_object)
            .map(|deps| {
                deps.iter()
                    .filter_map(|(name, version)| {
                        version.as_str().map(|v| (name.clone(), v.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(PackageManifest {
            name,
            version,
            dependencies,
        })
    }
}

/// A package read into memory: its manifest and its conformance resources.
pub(crate) struct LoadedPackage {
    pub manifest: PackageManifest,
    pub resources: Vec<Value>,
}

/// Reads a package from `path`: a `.tgz` file or a folder.
pub(crate) fn read_package(path: &Path) -> Result<LoadedPackage, PackageError> {
    if path.is_dir() {
        read_folder(path)
    } else {
        read_tarball(path)
    }
}

fn io_error(path: &Path, error: std::io::Error) -> PackageError {
    PackageError::Io {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

fn read_folder(path: &Path) -> Result<LoadedPackage, PackageError> {
    let folder = if path.join("package").join("package.json").is_file() {
        path.join("package")
    } else {
        path.to_path_buf()
    };
    let manifest_bytes =
        std::fs::read(folder.join("package.json")).map_err(|error| io_error(path, error))?;
    let manifest = PackageManifest::parse(&manifest_bytes, path)?;
    let mut names: Vec<_> = std::fs::read_dir(&folder)
        .map_err(|error| io_error(path, error))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|file| file.extension().is_some_and(|ext| ext == "json") && file.is_file())
        .take(MAX_ENTRIES)
        .collect();
    names.sort();
    let mut collector = Collector::new(path);
    for file in names {
        let size = file
            .metadata()
            .map_err(|error| io_error(&file, error))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(collector.too_big(&file.display().to_string()));
        }
        let bytes = std::fs::read(&file).map_err(|error| io_error(&file, error))?;
        collector.add(&file.display().to_string(), &bytes)?;
    }
    Ok(LoadedPackage {
        manifest,
        resources: collector.resources,
    })
}

fn read_tarball(path: &Path) -> Result<LoadedPackage, PackageError> {
    let file = std::fs::File::open(path).map_err(|error| io_error(path, error))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut manifest = None;
    let mut collector = Collector::new(path);
    let entries = archive.entries().map_err(|error| io_error(path, error))?;
    for entry in entries.take(MAX_ENTRIES) {
        let mut entry = entry.map_err(|error| io_error(path, error))?;
        let name = entry
            .path()
            .map_err(|error| io_error(path, error))?
            .to_string_lossy()
            .into_owned();
        // Only files directly inside `package/`.
        let Some(file_name) = name.strip_prefix("package/") else {
            continue;
        };
        if file_name.contains('/') || !file_name.ends_with(".json") {
            continue;
        }
        if entry.size() > MAX_FILE_BYTES {
            return Err(collector.too_big(&name));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .by_ref()
            .take(MAX_FILE_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|error| io_error(path, error))?;
        if file_name == "package.json" {
            manifest = Some(PackageManifest::parse(&bytes, path)?);
        } else {
            collector.add(&name, &bytes)?;
        }
    }
    let manifest = manifest.ok_or_else(|| PackageError::Invalid {
        origin: path.display().to_string(),
        reason: "no package/package.json in the archive".into(),
    })?;
    Ok(LoadedPackage {
        manifest,
        resources: collector.resources,
    })
}

/// Keeps the indexed resources of a package's files, within the package size limit.
struct Collector<'p> {
    package: &'p Path,
    bytes: u64,
    resources: Vec<Value>,
}

impl<'p> Collector<'p> {
    fn new(package: &'p Path) -> Collector<'p> {
        Collector {
            package,
            bytes: 0,
            resources: Vec::new(),
        }
    }

    fn too_big(&self, file: &str) -> PackageError {
        PackageError::Invalid {
            origin: self.package.display().to_string(),
            reason: format!("{file} is larger than {MAX_FILE_BYTES} bytes"),
        }
    }

    fn add(&mut self, file: &str, bytes: &[u8]) -> Result<(), PackageError> {
        if file.ends_with("package.json") || file.ends_with(".index.json") {
            return Ok(());
        }
        self.bytes += bytes.len() as u64;
        if self.bytes > MAX_PACKAGE_BYTES {
            return Err(PackageError::Invalid {
                origin: self.package.display().to_string(),
                reason: format!("the package holds more than {MAX_PACKAGE_BYTES} bytes"),
            });
        }
        // A file that is not a JSON resource (a tool's manifest, say) is not part of the
        // definitions and is passed over.
        let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
            return Ok(());
        };
        let indexed = value
            .get("resourceType")
            .and_then(Value::as_str)
            .is_some_and(is_indexed_type);
        if indexed {
            self.resources.push(value);
        }
        Ok(())
    }
}
