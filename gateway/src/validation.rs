//! Profile validation at the gateway's edges: the one validator of the process (the built-in R4
//! core plus the `[validation] packages`), the per-type modes, and the check every write runs
//! before its store transaction starts (REST create/update, batch and transaction entries,
//! ingest). `$validate` and `tsunagi validate` use the same validator and registry loading.

use crate::config::{ConfigError, ValidationConfig, ValidationMode};
use crate::error::reported_issues;
use crate::fhir::entry::{EntryRequest, Method};
use crate::outcome::Issue;
use crate::GatewayError;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tsunagi_profiles::package::{PackageError, Registry};
use tsunagi_profiles::validate::{Severity, ValidateOptions, Validator};
use tsunagi_profiles::Resource;

/// The built-in R4 core, plus every package in `packages` when given (dependencies checked).
pub fn load_registry(packages: Option<&Path>) -> Result<Registry, PackageError> {
    let mut registry = Registry::new();
    if let Some(dir) = packages {
        registry.load_directory(dir)?;
    }
    Ok(registry)
}

/// The validator and the `[validation]` rules for writes, built once per process.
pub struct WriteValidation {
    validator: Arc<Validator>,
    mode: ValidationMode,
    modes: BTreeMap<String, ValidationMode>,
    required_profiles: BTreeMap<String, Vec<String>>,
}

impl WriteValidation {
    /// Loads the packages and checks that every required profile is known; either failure
    /// names the configuration key, and the gateway must not start.
    pub fn from_config(config: &ValidationConfig) -> Result<Self, ConfigError> {
        let registry =
            load_registry(config.packages.as_deref().map(Path::new)).map_err(|error| {
                ConfigError::Value {
                    name: "validation.packages".into(),
                    message: format!("cannot load the FHIR packages: {error}"),
                }
            })?;
        for (res_type, profiles) in &config.required_profiles {
            for canonical in profiles {
                let Some(definition) = registry.structure_definition(canonical) else {
                    return Err(ConfigError::Value {
                        name: format!("validation.required_profiles.{res_type}"),
                        message: format!(
                            "no StructureDefinition '{canonical}' in the R4 core or the loaded packages"
                        ),
                    });
                };
                let constrains = definition.get("type").and_then(|value| value.as_str());
                if constrains != Some(res_type.as_str()) {
                    return Err(ConfigError::Value {
                        name: format!("validation.required_profiles.{res_type}"),
                        message: format!(
                            "'{canonical}' constrains {}, not {res_type}",
                            constrains.unwrap_or("no type")
                        ),
                    });
                }
            }
        }
        Ok(WriteValidation {
            validator: Arc::new(Validator::new(Arc::new(registry))),
            mode: config.mode,
            modes: config.modes.clone(),
            required_profiles: config.required_profiles.clone(),
        })
    }

    /// The validator (shared with `$validate`).
    pub fn validator(&self) -> &Arc<Validator> {
        &self.validator
    }

    /// The mode writes of `res_type` run in.
    pub fn mode(&self, res_type: &str) -> ValidationMode {
        self.modes.get(res_type).copied().unwrap_or(self.mode)
    }

    /// The profiles every resource of `res_type` must conform to.
    pub fn required_profiles(&self, res_type: &str) -> &[String] {
        self.required_profiles
            .get(res_type)
            .map_or(&[], Vec::as_slice)
    }

    /// Options naming the required profiles of `res_type` followed by `extra` ones.
    pub fn options(&self, res_type: &str, extra: &[String]) -> ValidateOptions {
        let mut profiles = self.required_profiles(res_type).to_vec();
        for profile in extra {
            if !profiles.contains(profile) {
                profiles.push(profile.clone());
            }
        }
        ValidateOptions {
            profiles,
            ..ValidateOptions::default()
        }
    }

    /// Checks a resource about to be written: nothing in mode `off`; in `enforce` a
    /// [`GatewayError::Validation`] when it has an error; otherwise the errors and warnings
    /// to report with the write. Only counts are logged, never content.
    pub fn check(&self, resource: &Resource) -> Result<Vec<Issue>, GatewayError> {
        let res_type = resource.resource_type();
        let mode = self.mode(res_type);
        if mode == ValidationMode::Off {
            return Ok(Vec::new());
        }
        let outcome = self
            .validator
            .validate(resource.as_value(), &self.options(res_type, &[]));
        let errors = outcome.error_count();
        let warnings = outcome.with_severity(Severity::Warning).count();
        if errors + warnings > 0 {
            tracing::info!(
                resource_type = res_type,
                errors,
                warnings,
                refused = mode == ValidationMode::Enforce && errors > 0,
                "validation issues on write"
            );
        }
        if mode == ValidationMode::Enforce && errors > 0 {
            return Err(GatewayError::Validation {
                res_type: res_type.to_owned(),
                outcome,
            });
        }
        Ok(reported_issues(&outcome))
    }

    /// Whether [`WriteValidation::check_request`] has anything to do for `request`.
    pub fn applies_to(&self, request: &EntryRequest) -> bool {
        match (&request.method, &request.resource) {
            (Method::Post | Method::Put, Some(resource)) => {
                self.mode(resource.resource_type()) != ValidationMode::Off
            }
            _ => false,
        }
    }

    /// [`WriteValidation::check`] for an interaction: creates and updates (conditional ones
    /// included) carry a resource; reads, deletes and patches have none to check here.
    pub fn check_request(&self, request: &EntryRequest) -> Result<Vec<Issue>, GatewayError> {
        match (&request.method, &request.resource) {
            (Method::Post | Method::Put, Some(resource)) => self.check(resource),
            _ => Ok(Vec::new()),
        }
    }
}
