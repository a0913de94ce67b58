//! The registry: conformance resources by type, canonical URL and version, looked up first in
//! what was loaded (packages, single resources), then in the built-in R4 core. Snapshots
//! missing from a loaded StructureDefinition are generated from its base on first lookup.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::builtin;
use super::npm::{read_package, PackageManifest};
use super::snapshot::generate_snapshot;

/// The resource types a registry indexes.
const INDEXED_TYPES: [&str; 7] = [
    "StructureDefinition",
    "ImplementationGuide",
    "Questionnaire",
    "ValueSet",
    "CodeSystem",
    "SearchParameter",
    "ConceptMap",
];

/// Packages the built-in definitions stand for: a dependency on one of these is satisfied.
const BUILT_IN_PACKAGES: [&str; 2] = ["hl7.fhir.r4.core", "hl7.fhir.r4.examples"];

/// How deep a chain of profiles (each derived from the next) may go.
const MAX_PROFILE_DEPTH: usize = 16;

/// Whether the registry keeps resources of `res_type`.
pub(crate) fn is_indexed_type(res_type: &str) -> bool {
    INDEXED_TYPES.contains(&res_type)
}

/// Why a package or resource could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file or folder.
        path: String,
        /// The system's answer.
        reason: String,
    },
    /// A package or resource is malformed.
    #[error("{origin}: {reason}")]
    Invalid {
        /// The package, file or resource.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A package needs another that is not loaded.
    #[error("package {package} needs {dependency}, which is not in the package directory")]
    MissingDependency {
        /// The package (`name#version`).
        package: String,
        /// The missing one (`name#version`).
        dependency: String,
    },
}

/// Resources by canonical URL.
#[derive(Default)]
pub(crate) struct Index {
    by_url: HashMap<String, Vec<Arc<Value>>>,
}

impl Index {
    /// Adds `resource` (which has a `url`); a resource with the same type, URL and version
    /// replaces the earlier one.
    pub(crate) fn insert(&mut self, resource: Arc<Value>) {
        let Some(url) = resource.get("url").and_then(Value::as_str) else {
            return;
        };
        let entries = self.by_url.entry(url.to_owned()).or_default();
        entries.retain(|known| {
            known.get("resourceType") != resource.get("resourceType")
                || known.get("version") != resource.get("version")
        });
        entries.push(resource);
    }

    /// The resource of `res_type` at `url`: the given `version`, else the highest one.
    pub(crate) fn get(
        &self,
        res_type: &str,
        url: &str,
        version: Option<&str>,
    ) -> Option<Arc<Value>> {
        let candidates = self.by_url.get(url)?.iter().filter(|resource| {
            resource.get("resourceType").and_then(Value::as_str) == Some(res_type)
        });
        match version {
            Some(wanted) => candidates
                .filter(|resource| version_of(resource).is_some_and(|v| version_matches(v, wanted)))
                .max_by(|a, b| compare_versions(version_of(a), version_of(b)))
                .cloned(),
            None => candidates
                .max_by(|a, b| compare_versions(version_of(a), version_of(b)))
                .cloned(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_url.values().map(Vec::len).sum()
    }
}

fn version_of(resource: &Value) -> Option<&str> {
    resource.get("version").and_then(Value::as_str)
}

/// `1.2` matches `1.2.0` and `1.2.5`; otherwise versions must be equal.
fn version_matches(have: &str, wanted: &str) -> bool {
    have == wanted || (wanted.matches('.').count() == 1 && have.starts_with(&format!("{wanted}.")))
}

/// Orders versions by their numeric parts, then as text; an absent version is the lowest.
fn compare_versions(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    let parts = |v: Option<&str>| -> Vec<(u64, String)> {
        v.unwrap_or("")
            .split(['.', '-'])
            .map(|part| (part.parse().unwrap_or(0), part.to_owned()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// Splits `url|version`.
fn split_canonical(canonical: &str) -> (&str, Option<&str>) {
    match canonical.split_once('|') {
        Some((url, version)) if !version.is_empty() => (url, Some(version)),
        Some((url, _)) => (url, None),
        None => (canonical, None),
    }
}

/// Conformance resources by canonical URL and version, over the built-in R4 core.
pub struct Registry {
    loaded: Index,
    packages: Vec<PackageManifest>,
    /// Snapshots generated for loaded StructureDefinitions that had only a differential.
    generated: RwLock<HashMap<String, Arc<Value>>>,
    /// The `global` profiles of the loaded ImplementationGuides by resource type, gathered when
    /// resources are loaded rather than for every validated resource.
    globals: HashMap<String, Vec<String>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// A registry holding the built-in definitions: R4 core and Tsunagi's JP Core subset.
    pub fn new() -> Registry {
        Registry {
            loaded: Index::default(),
            packages: Vec::new(),
            generated: RwLock::new(HashMap::new()),
            globals: HashMap::new(),
        }
    }

    /// The packages loaded so far.
    pub fn packages(&self) -> &[PackageManifest] {
        &self.packages
    }

    /// How many resources were loaded (the built-in core not counted).
    pub fn loaded_count(&self) -> usize {
        self.loaded.len()
    }

    /// Adds one conformance resource (a StructureDefinition, ValueSet, CodeSystem,
    /// SearchParameter or ConceptMap with a `url`).
    pub fn add_resource(&mut self, resource: Value) -> Result<(), PackageError> {
        let res_type = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !is_indexed_type(res_type) {
            return Err(PackageError::Invalid {
                origin: format!("a {res_type} resource"),
                reason: format!("only {} are kept", INDEXED_TYPES.join(", ")),
            });
        }
        if resource.get("url").and_then(Value::as_str).is_none() {
            return Err(PackageError::Invalid {
                origin: format!("a {res_type} resource"),
                reason: "it has no url".into(),
            });
        }
        self.invalidate();
        self.loaded.insert(Arc::new(resource));
        self.globals = self.collect_globals();
        Ok(())
    }

    /// Loads one package (`.tgz` or folder) without checking its dependencies.
    pub fn load_package(&mut self, path: &Path) -> Result<PackageManifest, PackageError> {
        let package = read_package(path)?;
        self.invalidate();
        for resource in package.resources {
            self.loaded.insert(Arc::new(resource));
        }
        self.globals = self.collect_globals();
        self.packages.push(package.manifest.clone());
        Ok(package.manifest)
    }

    /// Loads every package of `dir` (each `.tgz` and each folder holding a `package.json`),
    /// then checks that every dependency is loaded or built in.
    pub fn load_directory(&mut self, dir: &Path) -> Result<Vec<PackageManifest>, PackageError> {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|error| PackageError::Io {
                path: dir.display().to_string(),
                reason: error.to_string(),
            })?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.is_dir()
                    || path
                        .extension()
                        .is_some_and(|ext| ext == "tgz" || ext == "gz")
            })
            .collect();
        paths.sort();
        let mut loaded = Vec::new();
        for path in paths {
            let is_package = !path.is_dir()
                || path.join("package.json").is_file()
                || path.join("package").join("package.json").is_file();
            if is_package {
                loaded.push(self.load_package(&path)?);
            }
        }
        self.check_dependencies()?;
        Ok(loaded)
    }

    /// Every dependency of a loaded package is loaded too (any patch version of the same
    /// major.minor) or built in.
    pub fn check_dependencies(&self) -> Result<(), PackageError> {
        for package in &self.packages {
            for (name, version) in &package.dependencies {
                let built_in = BUILT_IN_PACKAGES.contains(&name.as_str());
                let present = self
                    .packages
                    .iter()
                    .any(|other| other.name == *name && same_minor(&other.version, version));
                if !built_in && !present {
                    return Err(PackageError::MissingDependency {
                        package: format!("{}#{}", package.name, package.version),
                        dependency: format!("{name}#{version}"),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether a package of this name is loaded.
    pub fn has_package(&self, name: &str) -> bool {
        self.packages.iter().any(|package| package.name == name)
    }

    fn invalidate(&mut self) {
        if let Ok(mut generated) = self.generated.write() {
            generated.clear();
        }
    }

    /// The resource of `res_type` named by `canonical` (`url` or `url|version`), loaded ones
    /// first, then the built-in core.
    pub fn resource(&self, res_type: &str, canonical: &str) -> Option<Arc<Value>> {
        let (url, version) = split_canonical(canonical);
        self.loaded
            .get(res_type, url, version)
            .or_else(|| {
                // The official JP Core, when loaded, stands in for Tsunagi's subset.
                if self.has_package(builtin::JP_CORE_PACKAGE) {
                    None
                } else {
                    builtin::jp_core_subset().get(res_type, url, version)
                }
            })
            .or_else(|| builtin::r4_core().get(res_type, url, version))
    }

    /// A StructureDefinition with its snapshot (generated from the differential when the
    /// loaded one lacks it; `None` when that fails or the canonical is unknown).
    pub fn structure_definition(&self, canonical: &str) -> Option<Arc<Value>> {
        self.structure_definition_at(canonical, 0)
    }

    fn structure_definition_at(&self, canonical: &str, depth: usize) -> Option<Arc<Value>> {
        let definition = self.resource("StructureDefinition", canonical)?;
        if definition.get("snapshot").is_some() {
            return Some(definition);
        }
        if depth >= MAX_PROFILE_DEPTH {
            return None;
        }
        let key = cache_key(&definition);
        if let Some(known) = self.generated.read().ok()?.get(&key) {
            return Some(known.clone());
        }
        let base_url = definition.get("baseDefinition").and_then(Value::as_str)?;
        let base = self.structure_definition_at(base_url, depth + 1)?;
        let lookup = |url: &str| self.structure_definition_at(url, depth + 1);
        let generated = Arc::new(generate_snapshot(&definition, &base, &lookup).ok()?);
        if let Ok(mut cache) = self.generated.write() {
            cache.insert(key, generated.clone());
        }
        Some(generated)
    }

    /// The base StructureDefinition of a FHIR type (`Patient`, `HumanName`, `string`).
    pub fn type_definition(&self, type_name: &str) -> Option<Arc<Value>> {
        let canonical = if type_name.contains(':') {
            type_name.to_owned()
        } else {
            format!("http://hl7.org/fhir/StructureDefinition/{type_name}")
        };
        self.structure_definition(&canonical)
    }

    /// The profiles loaded ImplementationGuides declare `global` for `res_type`: every resource
    /// of that type must conform to them.
    pub fn global_profiles(&self, res_type: &str) -> &[String] {
        self.globals.get(res_type).map_or(&[], Vec::as_slice)
    }

    /// Every loaded ImplementationGuide's `global` profiles, by resource type.
    fn collect_globals(&self) -> HashMap<String, Vec<String>> {
        let mut globals: HashMap<String, Vec<String>> = HashMap::new();
        let guides = self.loaded.by_url.values().flatten().filter(|resource| {
            resource.get("resourceType").and_then(Value::as_str) == Some("ImplementationGuide")
        });
        for global in guides.flat_map(|guide| {
            guide
                .get("global")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        }) {
            if let (Some(res_type), Some(profile)) = (
                global.get("type").and_then(Value::as_str),
                global.get("profile").and_then(Value::as_str),
            ) {
                globals
                    .entry(res_type.to_owned())
                    .or_default()
                    .push(profile.to_owned());
            }
        }
        globals
    }

    /// A ValueSet by canonical.
    pub fn value_set(&self, canonical: &str) -> Option<Arc<Value>> {
        self.resource("ValueSet", canonical)
    }

    /// A CodeSystem by canonical.
    pub fn code_system(&self, canonical: &str) -> Option<Arc<Value>> {
        self.resource("CodeSystem", canonical)
    }

    /// A SearchParameter by canonical.
    pub fn search_parameter(&self, canonical: &str) -> Option<Arc<Value>> {
        self.resource("SearchParameter", canonical)
    }

    /// A ConceptMap by canonical.
    pub fn concept_map(&self, canonical: &str) -> Option<Arc<Value>> {
        self.resource("ConceptMap", canonical)
    }
}

fn cache_key(definition: &Value) -> String {
    format!(
        "{}|{}",
        definition.get("url").and_then(Value::as_str).unwrap_or(""),
        definition
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("")
    )
}

/// `4.0.1` and `4.0.0` share `4.0`; anything else must be equal.
fn same_minor(have: &str, wanted: &str) -> bool {
    let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    have == wanted || minor(have) == minor(wanted)
}

impl crate::terminology::TerminologySource for Registry {
    fn value_set(&self, canonical: &str) -> Option<Arc<Value>> {
        Registry::value_set(self, canonical)
    }

    fn code_system(&self, canonical: &str) -> Option<Arc<Value>> {
        Registry::code_system(self, canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loaded_resources_come_before_core_and_versions_are_chosen() {
        let mut registry = Registry::new();
        for version in ["1.0.0", "1.2.0", "1.10.0"] {
            registry
                .add_resource(
                    json!({"resourceType": "ValueSet", "url": "http://x/vs", "version": version}),
                )
                .expect("add");
        }
        let latest = registry.value_set("http://x/vs").expect("latest");
        assert_eq!(latest["version"], "1.10.0");
        let pinned = registry.value_set("http://x/vs|1.2").expect("pinned");
        assert_eq!(pinned["version"], "1.2.0");
        assert!(registry.value_set("http://x/vs|2.0.0").is_none());
        assert!(
            registry.code_system("http://x/vs").is_none(),
            "types are kept apart"
        );
        assert!(registry
            .structure_definition("http://hl7.org/fhir/StructureDefinition/Observation")
            .is_some());
    }

    #[test]
    fn only_conformance_resources_with_urls_are_added() {
        let mut registry = Registry::new();
        assert!(registry
            .add_resource(json!({"resourceType": "Patient", "url": "http://x"}))
            .is_err());
        assert!(registry
            .add_resource(json!({"resourceType": "ValueSet"}))
            .is_err());
    }

    #[test]
    fn packages_load_from_folders_and_tarballs_and_dependencies_are_checked() {
        let dir = std::env::temp_dir().join(format!("tsunagi-packages-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let folder = dir.join("a").join("package");
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(
            folder.join("package.json"),
            r#"{"name":"example.a","version":"1.0.0","dependencies":{"hl7.fhir.r4.core":"4.0.1","example.b":"2.1.0"}}"#,
        )
        .expect("write");
        std::fs::write(
            folder.join("ValueSet-a.json"),
            r#"{"resourceType":"ValueSet","url":"http://example.org/vs/a","version":"1.0.0"}"#,
        )
        .expect("write");
        let mut registry = Registry::new();
        let error = registry.load_directory(&dir).expect_err("b is missing");
        assert!(
            matches!(error, PackageError::MissingDependency { .. }),
            "{error}"
        );

        // A tarball of package b, written with the tar crate.
        let tarball = dir.join("b.tgz");
        let file = std::fs::File::create(&tarball).expect("create");
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ));
        for (name, text) in [
            (
                "package/package.json",
                r#"{"name":"example.b","version":"2.1.3"}"#,
            ),
            (
                "package/CodeSystem-b.json",
                r#"{"resourceType":"CodeSystem","url":"http://example.org/cs/b"}"#,
            ),
            (
                "package/example/Patient-x.json",
                r#"{"resourceType":"Patient","id":"x"}"#,
            ),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, name, text.as_bytes())
                .expect("append");
        }
        builder
            .into_inner()
            .and_then(|encoder| encoder.finish())
            .expect("finish");
        let mut registry = Registry::new();
        let loaded = registry.load_directory(&dir).expect("both load");
        assert_eq!(loaded.len(), 2);
        assert!(registry.value_set("http://example.org/vs/a").is_some());
        assert!(registry.code_system("http://example.org/cs/b").is_some());
        assert_eq!(registry.loaded_count(), 2, "examples are not read");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
