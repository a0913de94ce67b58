//! Gateway configuration: built-in defaults, then a TOML file, then `TSUNAGI_*` environment
//! variables, then command-line flags (each later source wins).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Everything the gateway reads at start. Every key has a safe default.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the FHIR HTTP server binds to.
    pub listen: String,
    /// Path prefix of the FHIR API, e.g. `/fhir`.
    pub base_path: String,
    /// Absolute base URL clients see (behind a proxy); default `http://{listen}{base_path}`.
    pub public_base_url: Option<String>,
    /// The store: a SQLite file path (the embedded store), or a `postgres://` /
    /// `postgresql://` URL (the shared store of a regional instance).
    pub db: String,
    /// HTTP worker threads; default: one per core.
    pub workers: Option<usize>,
    /// `text` (human) or `json` (one object per line) logs.
    pub log_format: LogFormat,
    /// Limits on what clients send.
    pub limits: Limits,
    /// Embedded store tuning.
    pub sqlite: SqliteConfig,
    /// PostgreSQL store tuning (used when `db` is a `postgres://` URL).
    pub postgres: PostgresConfig,
    /// In-memory cache of current resource versions.
    pub cache: CacheConfig,
    /// The institution whose exports this gateway converts (identity of produced resources).
    pub source: SourceConfig,
    /// The MLLP (HL7 v2 over TCP) listener.
    pub mllp: MllpConfig,
    /// Profile validation of written and `$validate`d resources.
    pub validation: ValidationConfig,
    /// Referral packages: signing, trusted senders, destinations and delivery.
    pub referral: crate::referral::settings::ReferralConfig,
}

/// `[validation]`: which FHIR packages to load and how strictly each resource type is checked
/// on write (REST create/update, Bundle entries, ingest).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationConfig {
    /// Directory of FHIR NPM packages (`.tgz` or unpacked folders) loaded at start, over the
    /// built-in R4 core; a package that cannot be loaded or lacks a dependency stops the start.
    pub packages: Option<String>,
    /// What happens on write for every type without an entry in `modes`.
    pub mode: ValidationMode,
    /// Per resource type overrides of `mode`, e.g. `{ Patient = "enforce" }`.
    pub modes: BTreeMap<String, ValidationMode>,
    /// Canonical URLs every written resource of a type must also conform to (besides its own
    /// `meta.profile`), e.g. `{ ImagingStudy = ["http://…/JP_ImagingStudy_Radiology"] }`.
    pub required_profiles: BTreeMap<String, Vec<String>>,
}

/// How a write treats validation issues.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ValidationMode {
    /// Not validated.
    Off,
    /// Validated; stored anyway, with the issues returned to the client and counted in logs.
    #[default]
    Warn,
    /// Validated; a resource with an error or fatal issue is refused (422).
    Enforce,
}

/// Who sends the legacy exports and how to read them: the adapters' source context.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    /// The institution's key, part of every deterministic resource id; keep it stable forever.
    pub institution: String,
    /// The 10-digit Japanese medical-institution code, when there is one (JP Core identifiers).
    pub institution_code: Option<String>,
    /// Base of facility-local identifier systems; default `urn:tsunagi:id:<institution>`.
    pub identifier_base: Option<String>,
    /// UTC offset applied to source timestamps that carry none, e.g. `+09:00`.
    pub timezone: String,
    /// Character set of HL7 v2 messages whose MSH-18 is empty and whose bytes do not tell:
    /// `ascii`, `latin1`, `utf8`, `iso2022jp` or `shift_jis`.
    pub hl7v2_default_charset: Option<String>,
    /// Base URL of the DICOMweb (WADO-RS) service holding the images, e.g.
    /// `https://pacs.example.jp/dicom-web`; when set, ImagingStudies name it as their Endpoint.
    pub dicomweb_base: Option<String>,
}

/// MLLP listener settings; the listener runs only when `listen` is set.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MllpConfig {
    /// Address to accept HL7 v2 senders on, e.g. `127.0.0.1:2575`.
    pub listen: Option<String>,
    /// Largest frame (one message) accepted, in bytes; a larger one is refused and the
    /// connection closed.
    pub max_frame_bytes: usize,
    /// Seconds a connection may sit idle between messages before it is closed.
    pub idle_timeout_secs: u64,
    /// Seconds a sender has to finish a frame once it has started one (slow senders).
    pub frame_timeout_secs: u64,
    /// Most sender connections open at once; further ones wait in the accept queue.
    pub max_connections: usize,
}

/// Log output style.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines for log collectors.
    Json,
}

/// Size, depth and count limits on client input.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Deepest JSON/XML nesting accepted.
    pub max_depth: usize,
    /// Most entries in one batch or transaction Bundle.
    pub max_bundle_entries: usize,
    /// Largest `_count` honoured on paged results.
    pub max_page_size: usize,
    /// Page size when the client gives no `_count`.
    pub default_page_size: usize,
    /// Longest time one request may take to be handled, in seconds; a longer one is stopped
    /// and answered 503 (OperationOutcome `timeout`).
    pub request_timeout_secs: u64,
    /// Time a client has to send a request's head once it has connected or sent the previous
    /// request, in seconds (slow-header clients).
    pub client_request_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open; 0 closes every connection after its
    /// response.
    pub keep_alive_secs: u64,
    /// Requests one client (peer IP address; IPv6 by /64) may send per minute, with bursts of
    /// the same size; over it the answer is 429 with `Retry-After`. 0 turns the limit off.
    /// `/healthz`, `/readyz` and `/metrics` are never limited.
    pub rate_limit_per_minute: u32,
}

/// SQLite store settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteConfig {
    /// `full` (fsync on every commit: survives power loss) or `normal` (survives a process
    /// crash only).
    pub synchronous: Synchronous,
    /// Most read connections open at once.
    pub max_readers: usize,
    /// How long a connection waits for a lock before reporting the store busy, in ms.
    pub busy_timeout_ms: u64,
}

/// PostgreSQL store settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// Most connections this gateway opens to the database.
    pub max_connections: usize,
    /// How long to wait for a new connection, in seconds.
    pub connect_timeout_secs: u64,
    /// Longest a statement may run before the server cancels it, in ms (0 = no limit).
    pub statement_timeout_ms: u64,
    /// How often a transaction that lost a race with another writer (same version, deadlock)
    /// is run again before the request fails as busy.
    pub max_retries: u32,
}

/// SQLite `PRAGMA synchronous` levels we allow.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// fsync the WAL on every commit.
    Full,
    /// fsync only at checkpoints.
    Normal,
}

/// Resource cache settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Upper bound of cached resource bytes; 0 turns the cache off.
    pub max_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            base_path: "/fhir".into(),
            public_base_url: None,
            db: "./tsunagi-data/tsunagi.db".into(),
            workers: None,
            log_format: LogFormat::Text,
            limits: Limits::default(),
            sqlite: SqliteConfig::default(),
            postgres: PostgresConfig::default(),
            cache: CacheConfig::default(),
            source: SourceConfig::default(),
            mllp: MllpConfig::default(),
            validation: ValidationConfig::default(),
            referral: crate::referral::settings::ReferralConfig::default(),
        }
    }
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            institution: "local".into(),
            institution_code: None,
            identifier_base: None,
            timezone: "+09:00".into(),
            hl7v2_default_charset: None,
            dicomweb_base: None,
        }
    }
}

impl Default for MllpConfig {
    fn default() -> Self {
        MllpConfig {
            listen: None,
            max_frame_bytes: 16 * 1024 * 1024,
            idle_timeout_secs: 300,
            frame_timeout_secs: 60,
            max_connections: 256,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
            max_depth: 64,
            max_bundle_entries: 1000,
            max_page_size: 1000,
            default_page_size: 50,
            request_timeout_secs: 60,
            client_request_timeout_secs: 10,
            keep_alive_secs: 5,
            // High enough that no client of a hospital gateway (nor our benchmarks) meets it,
            // low enough to blunt one peer flooding the server.
            rate_limit_per_minute: 60_000,
        }
    }
}

impl Default for SqliteConfig {
    fn default() -> Self {
        SqliteConfig {
            synchronous: Synchronous::Full,
            max_readers: 8,
            busy_timeout_ms: 5000,
        }
    }
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            max_connections: 16,
            connect_timeout_secs: 10,
            statement_timeout_ms: 30_000,
            max_retries: 8,
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A configuration that could not be loaded; the message names the file, key or variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has an unknown key.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What the TOML parser said (it names the key and line).
        message: String,
    },
    /// An environment variable or flag has a value of the wrong shape.
    #[error("{name}: {message}")]
    Value {
        /// Variable or key name.
        name: String,
        /// Why the value was refused.
        message: String,
    },
}

/// Environment variables read by [`Config::apply_env`], with what each sets (shown in `--help`).
pub const ENV_VARS: &[(&str, &str)] = &[
    ("TSUNAGI_LISTEN", "listen address, e.g. 127.0.0.1:8080"),
    ("TSUNAGI_BASE_PATH", "FHIR base path, e.g. /fhir"),
    ("TSUNAGI_PUBLIC_BASE_URL", "absolute base URL clients see"),
    ("TSUNAGI_DB", "SQLite file path or postgres:// URL"),
    ("TSUNAGI_WORKERS", "HTTP worker threads"),
    ("TSUNAGI_LOG_FORMAT", "text or json"),
    ("TSUNAGI_MAX_BODY_BYTES", "largest request body"),
    ("TSUNAGI_MAX_DEPTH", "deepest JSON/XML nesting"),
    ("TSUNAGI_MAX_BUNDLE_ENTRIES", "most entries per Bundle"),
    ("TSUNAGI_MAX_PAGE_SIZE", "largest _count"),
    ("TSUNAGI_DEFAULT_PAGE_SIZE", "page size without _count"),
    (
        "TSUNAGI_REQUEST_TIMEOUT_SECS",
        "longest request handling in seconds (then 503)",
    ),
    (
        "TSUNAGI_CLIENT_REQUEST_TIMEOUT_SECS",
        "seconds a client has to send a request head",
    ),
    (
        "TSUNAGI_KEEP_ALIVE_SECS",
        "idle keep-alive seconds, 0 = close after each response",
    ),
    (
        "TSUNAGI_RATE_LIMIT_PER_MINUTE",
        "requests per minute per client IP, 0 = off",
    ),
    ("TSUNAGI_SQLITE_SYNCHRONOUS", "full or normal"),
    ("TSUNAGI_SQLITE_MAX_READERS", "read connections"),
    ("TSUNAGI_SQLITE_BUSY_TIMEOUT_MS", "lock wait in ms"),
    (
        "TSUNAGI_POSTGRES_MAX_CONNECTIONS",
        "PostgreSQL connections per gateway",
    ),
    (
        "TSUNAGI_CACHE_MAX_BYTES",
        "resource cache size in bytes, 0 = off",
    ),
    (
        "TSUNAGI_INSTITUTION",
        "sending institution's key (resource identity)",
    ),
    (
        "TSUNAGI_INSTITUTION_CODE",
        "10-digit JP medical-institution code",
    ),
    (
        "TSUNAGI_IDENTIFIER_BASE",
        "base of facility-local identifier systems",
    ),
    (
        "TSUNAGI_TIMEZONE",
        "offset for source times without one, e.g. +09:00",
    ),
    (
        "TSUNAGI_HL7V2_DEFAULT_CHARSET",
        "charset when MSH-18 is empty: ascii|latin1|utf8|iso2022jp|shift_jis",
    ),
    (
        "TSUNAGI_DICOMWEB_BASE",
        "DICOMweb base URL named as the ImagingStudy Endpoint",
    ),
    (
        "TSUNAGI_MLLP",
        "MLLP listen address, e.g. 127.0.0.1:2575 (off if unset)",
    ),
    ("TSUNAGI_MLLP_MAX_FRAME_BYTES", "largest MLLP frame"),
    (
        "TSUNAGI_MLLP_IDLE_TIMEOUT_SECS",
        "idle MLLP connection timeout",
    ),
    (
        "TSUNAGI_MLLP_FRAME_TIMEOUT_SECS",
        "time to finish a started frame",
    ),
    (
        "TSUNAGI_MLLP_MAX_CONNECTIONS",
        "most MLLP connections at once",
    ),
    (
        "TSUNAGI_VALIDATION_PACKAGES",
        "directory of FHIR packages (.tgz/folders) loaded at start",
    ),
    (
        "TSUNAGI_VALIDATION_MODE",
        "validation on write: off, warn or enforce",
    ),
    (
        "TSUNAGI_VALIDATION_MODES",
        "per-type modes, e.g. Patient=enforce,Observation=off",
    ),
];

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    /// Defaults, then the TOML file when given, then the `TSUNAGI_*` environment (not yet
    /// validated: flags may still follow).
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let mut config = match file {
            Some(path) => Config::from_file(path).map_err(|error| error.to_string())?,
            None => Config::default(),
        };
        config
            .apply_env(|name| std::env::var(name).ok())
            .map_err(|error| error.to_string())?;
        Ok(config)
    }

    /// Parses TOML text over the defaults.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    /// Applies every `TSUNAGI_*` variable that `lookup` returns (normally `std::env::var`).
    pub fn apply_env(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        for (name, _) in ENV_VARS {
            if let Some(value) = lookup(name) {
                self.set(name, &value)?;
            }
        }
        Ok(())
    }

    fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let limits = &mut self.limits;
        match name {
            "TSUNAGI_LISTEN" => self.listen = value.into(),
            "TSUNAGI_BASE_PATH" => self.base_path = value.into(),
            "TSUNAGI_PUBLIC_BASE_URL" => self.public_base_url = Some(value.into()),
            "TSUNAGI_DB" => self.db = value.into(),
            "TSUNAGI_WORKERS" => self.workers = Some(number(name, value)?),
            "TSUNAGI_LOG_FORMAT" => self.log_format = choice(name, value)?,
            "TSUNAGI_MAX_BODY_BYTES" => limits.max_body_bytes = number(name, value)?,
            "TSUNAGI_MAX_DEPTH" => limits.max_depth = number(name, value)?,
            "TSUNAGI_MAX_BUNDLE_ENTRIES" => limits.max_bundle_entries = number(name, value)?,
            "TSUNAGI_MAX_PAGE_SIZE" => limits.max_page_size = number(name, value)?,
            "TSUNAGI_DEFAULT_PAGE_SIZE" => limits.default_page_size = number(name, value)?,
            "TSUNAGI_REQUEST_TIMEOUT_SECS" => limits.request_timeout_secs = number(name, value)?,
            "TSUNAGI_CLIENT_REQUEST_TIMEOUT_SECS" => {
                limits.client_request_timeout_secs = number(name, value)?
            }
            "TSUNAGI_KEEP_ALIVE_SECS" => limits.keep_alive_secs = number(name, value)?,
            "TSUNAGI_RATE_LIMIT_PER_MINUTE" => limits.rate_limit_per_minute = number(name, value)?,
            "TSUNAGI_SQLITE_SYNCHRONOUS" => self.sqlite.synchronous = choice(name, value)?,
            "TSUNAGI_SQLITE_MAX_READERS" => self.sqlite.max_readers = number(name, value)?,
            "TSUNAGI_SQLITE_BUSY_TIMEOUT_MS" => self.sqlite.busy_timeout_ms = number(name, value)?,
            "TSUNAGI_POSTGRES_MAX_CONNECTIONS" => {
                self.postgres.max_connections = number(name, value)?
            }
            "TSUNAGI_CACHE_MAX_BYTES" => self.cache.max_bytes = number(name, value)?,
            "TSUNAGI_INSTITUTION" => self.source.institution = value.into(),
            "TSUNAGI_INSTITUTION_CODE" => self.source.institution_code = Some(value.into()),
            "TSUNAGI_IDENTIFIER_BASE" => self.source.identifier_base = Some(value.into()),
            "TSUNAGI_TIMEZONE" => self.source.timezone = value.into(),
            "TSUNAGI_HL7V2_DEFAULT_CHARSET" => {
                self.source.hl7v2_default_charset = Some(value.into())
            }
            "TSUNAGI_DICOMWEB_BASE" => self.source.dicomweb_base = Some(value.into()),
            "TSUNAGI_MLLP" => self.mllp.listen = Some(value.into()),
            "TSUNAGI_MLLP_MAX_FRAME_BYTES" => self.mllp.max_frame_bytes = number(name, value)?,
            "TSUNAGI_MLLP_IDLE_TIMEOUT_SECS" => self.mllp.idle_timeout_secs = number(name, value)?,
            "TSUNAGI_MLLP_FRAME_TIMEOUT_SECS" => {
                self.mllp.frame_timeout_secs = number(name, value)?
            }
            "TSUNAGI_MLLP_MAX_CONNECTIONS" => self.mllp.max_connections = number(name, value)?,
            "TSUNAGI_VALIDATION_PACKAGES" => self.validation.packages = Some(value.into()),
            "TSUNAGI_VALIDATION_MODE" => self.validation.mode = choice(name, value)?,
            "TSUNAGI_VALIDATION_MODES" => {
                for pair in value.split(',').filter(|pair| !pair.trim().is_empty()) {
                    let (res_type, mode) =
                        pair.split_once('=').ok_or_else(|| ConfigError::Value {
                            name: name.into(),
                            message: format!("'{pair}' is not Type=mode"),
                        })?;
                    let mode = choice(name, mode)?;
                    self.validation
                        .modes
                        .insert(res_type.trim().to_owned(), mode);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Checks values that parse but make no sense (e.g. a zero body limit).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("limits.max_body_bytes", self.limits.max_body_bytes),
            ("limits.max_depth", self.limits.max_depth),
            ("limits.max_bundle_entries", self.limits.max_bundle_entries),
            ("limits.max_page_size", self.limits.max_page_size),
            ("limits.default_page_size", self.limits.default_page_size),
            (
                "limits.request_timeout_secs",
                self.limits.request_timeout_secs as usize,
            ),
            (
                "limits.client_request_timeout_secs",
                self.limits.client_request_timeout_secs as usize,
            ),
            ("sqlite.max_readers", self.sqlite.max_readers),
            ("postgres.max_connections", self.postgres.max_connections),
            ("mllp.max_frame_bytes", self.mllp.max_frame_bytes),
            ("mllp.max_connections", self.mllp.max_connections),
            (
                "mllp.idle_timeout_secs",
                self.mllp.idle_timeout_secs as usize,
            ),
            (
                "mllp.frame_timeout_secs",
                self.mllp.frame_timeout_secs as usize,
            ),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(ConfigError::Value {
                name: (*name).into(),
                message: "must be greater than 0".into(),
            });
        }
        self.validate_source()?;
        self.validate_validation()?;
        if !self.base_path.starts_with('/')
            || self.base_path.ends_with('/') && self.base_path.len() > 1
        {
            return Err(ConfigError::Value {
                name: "base_path".into(),
                message: format!(
                    "'{}' must start with '/' and not end with '/'",
                    self.base_path
                ),
            });
        }
        Ok(())
    }

    /// Checks the `[source]` section: institution key, code shape, timezone and charset.
    fn validate_source(&self) -> Result<(), ConfigError> {
        let source = &self.source;
        let refuse = |name: &str, message: String| ConfigError::Value {
            name: name.into(),
            message,
        };
        if source.institution.trim().is_empty() || source.institution.contains('|') {
            return Err(refuse(
                "source.institution",
                "must be non-empty and must not contain '|'".into(),
            ));
        }
        if let Some(code) = &source.institution_code {
            if code.len() != 10 || !code.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(refuse(
                    "source.institution_code",
                    format!("'{code}' is not a 10-digit medical-institution code"),
                ));
            }
        }
        if crate::ingest::parse_offset(&source.timezone).is_none() {
            return Err(refuse(
                "source.timezone",
                format!("'{}' is not an offset like +09:00 or Z", source.timezone),
            ));
        }
        if let Some(charset) = &source.hl7v2_default_charset {
            if crate::ingest::charset_named(charset).is_none() {
                return Err(refuse(
                    "source.hl7v2_default_charset",
                    format!("'{charset}' is not one of ascii, latin1, utf8, iso2022jp, shift_jis"),
                ));
            }
        }
        if let Some(base) = &source.dicomweb_base {
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                return Err(refuse(
                    "source.dicomweb_base",
                    format!("'{base}' is not an http(s) URL"),
                ));
            }
        }
        Ok(())
    }

    /// Checks the `[validation]` section's type names and canonical URLs (whether the
    /// packages load and the profiles exist is checked when the validator is built).
    fn validate_validation(&self) -> Result<(), ConfigError> {
        let validation = &self.validation;
        let keys = validation
            .modes
            .keys()
            .map(|res_type| ("validation.modes", res_type))
            .chain(
                validation
                    .required_profiles
                    .keys()
                    .map(|res_type| ("validation.required_profiles", res_type)),
            );
        for (section, res_type) in keys {
            if !tsunagi_profiles::is_resource_type(res_type) {
                return Err(ConfigError::Value {
                    name: format!("{section}.{res_type}"),
                    message: format!("'{res_type}' is not a FHIR R4 resource type"),
                });
            }
        }
        for (res_type, profiles) in &validation.required_profiles {
            if let Some(bad) = profiles.iter().find(|url| !url.contains(':')) {
                return Err(ConfigError::Value {
                    name: format!("validation.required_profiles.{res_type}"),
                    message: format!("'{bad}' is not a canonical URL"),
                });
            }
        }
        if validation
            .packages
            .as_deref()
            .is_some_and(|dir| dir.trim().is_empty())
        {
            return Err(ConfigError::Value {
                name: "validation.packages".into(),
                message: "must name a directory".into(),
            });
        }
        Ok(())
    }

    /// The absolute base URL used in `Location`, `fullUrl` and paging links.
    pub fn base_url(&self) -> String {
        match &self.public_base_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}{}", self.listen, self.base_path),
        }
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Value {
        name: name.into(),
        message: format!("'{value}' is not a non-negative whole number"),
    })
}

fn choice<T: serde::de::DeserializeOwned>(name: &str, value: &str) -> Result<T, ConfigError> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(value.trim()))
        .map_err(|error| ConfigError::Value {
            name: name.into(),
            message: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_defaults_and_env_overrides_toml() {
        let mut config = Config::from_toml(
            "listen = \"0.0.0.0:9000\"\n[limits]\nmax_depth = 10\n[sqlite]\nsynchronous = \"normal\"\n",
        )
        .unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(config.limits.max_depth, 10);
        assert_eq!(
            config.limits.max_body_bytes,
            Limits::default().max_body_bytes
        );
        assert_eq!(config.sqlite.synchronous, Synchronous::Normal);

        config
            .apply_env(|name| match name {
                "TSUNAGI_MAX_DEPTH" => Some("12".into()),
                "TSUNAGI_LOG_FORMAT" => Some("json".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.limits.max_depth, 12);
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn hardening_limits_from_toml_and_env() {
        let defaults = Limits::default();
        assert_eq!(
            (
                defaults.request_timeout_secs,
                defaults.client_request_timeout_secs,
                defaults.keep_alive_secs,
                defaults.rate_limit_per_minute
            ),
            (60, 10, 5, 60_000)
        );
        let mut config = Config::from_toml(
            "[limits]\nrequest_timeout_secs = 30\nrate_limit_per_minute = 0\nkeep_alive_secs = 0\n",
        )
        .unwrap();
        assert_eq!(config.limits.request_timeout_secs, 30);
        assert_eq!(config.limits.rate_limit_per_minute, 0);
        config.validate().unwrap();
        config
            .apply_env(|name| match name {
                "TSUNAGI_REQUEST_TIMEOUT_SECS" => Some("5".into()),
                "TSUNAGI_CLIENT_REQUEST_TIMEOUT_SECS" => Some("3".into()),
                "TSUNAGI_KEEP_ALIVE_SECS" => Some("7".into()),
                "TSUNAGI_RATE_LIMIT_PER_MINUTE" => Some("120".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            (
                config.limits.request_timeout_secs,
                config.limits.client_request_timeout_secs,
                config.limits.keep_alive_secs,
                config.limits.rate_limit_per_minute
            ),
            (5, 3, 7, 120)
        );
        config.limits.request_timeout_secs = 0;
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("limits.request_timeout_secs"), "{error}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let error = Config::from_toml("[limits]\nmax_dept = 3\n").unwrap_err();
        assert!(error.contains("max_dept"), "{error}");
        let error = Config::default()
            .apply_env(|name| (name == "TSUNAGI_SQLITE_SYNCHRONOUS").then(|| "off".into()))
            .unwrap_err();
        assert!(
            error.to_string().starts_with("TSUNAGI_SQLITE_SYNCHRONOUS"),
            "{error}"
        );
        let mut zero = Config::default();
        zero.limits.max_bundle_entries = 0;
        assert!(zero
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_bundle_entries"));
    }

    #[test]
    fn validation_section_modes_and_profiles() {
        let config = Config::from_toml(
            "[validation]\nmode = \"enforce\"\nmodes = { Patient = \"off\" }\nrequired_profiles = { ImagingStudy = [\"http://example.org/fhir/StructureDefinition/x\"] }\n",
        )
        .unwrap();
        assert_eq!(config.validation.mode, ValidationMode::Enforce);
        assert_eq!(config.validation.modes["Patient"], ValidationMode::Off);
        config.validate().unwrap();

        let error = Config::from_toml("[validation]\nmode = \"strict\"\n").unwrap_err();
        assert!(
            error.contains("mode") && error.contains("strict"),
            "{error}"
        );
        let error =
            Config::from_toml("[validation]\nmodes = { Patient = \"strict\" }\n").unwrap_err();
        assert!(error.contains("Patient"), "{error}");
        let error = Config::from_toml("[validation]\nmodes = { Patientz = \"warn\" }\n")
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(
            error.to_string().contains("validation.modes.Patientz"),
            "{error}"
        );

        let mut config = Config::default();
        config
            .apply_env(|name| match name {
                "TSUNAGI_VALIDATION_MODE" => Some("off".into()),
                "TSUNAGI_VALIDATION_MODES" => Some("Patient=enforce, Observation=warn".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.validation.mode, ValidationMode::Off);
        assert_eq!(config.validation.modes["Patient"], ValidationMode::Enforce);
        assert_eq!(config.validation.modes["Observation"], ValidationMode::Warn);
        let error = Config::default()
            .apply_env(|name| (name == "TSUNAGI_VALIDATION_MODE").then(|| "strict".into()))
            .unwrap_err();
        assert!(
            error.to_string().starts_with("TSUNAGI_VALIDATION_MODE"),
            "{error}"
        );
    }

    #[test]
    fn base_url_defaults_to_listen_address() {
        assert_eq!(Config::default().base_url(), "http://127.0.0.1:8080/fhir");
        let config = Config {
            public_base_url: Some("https://fhir.example.jp/r4/".into()),
            ..Config::default()
        };
        assert_eq!(config.base_url(), "https://fhir.example.jp/r4");
    }
}
