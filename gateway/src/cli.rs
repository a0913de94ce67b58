//! The `tsunagi` command line (clap): `serve`, `convert`, `ingest`, `reindex`, `migrate` and
//! `validate`.

use crate::config::{Config, LogFormat, ValidationMode, ENV_VARS};
use crate::referral::delivery::Senders;
use crate::referral::keys::ReferralKeys;
use crate::store::{self, PostgresStore};
use crate::validation::WriteValidation;
use crate::Gateway;
use clap::{Args, Parser, Subcommand};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Tsunagi: a FHIR R4 gateway that turns hospital exports into linked FHIR and serves them.
#[derive(Debug, Parser)]
#[command(name = "tsunagi", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the FHIR REST server (and the MLLP listener with --mllp).
    Serve(ServeArgs),
    /// Convert legacy exports to FHIR transaction Bundles on stdout (stores nothing).
    Convert(ConvertArgs),
    /// Rebuild the search index of every stored resource (after the definitions change).
    Reindex(ReindexArgs),
    /// Convert legacy exports and store them in the configured store: SS-MIX2 storage trees
    /// and HL7 v2 files (parallel, batched, resumable) or DICOM media, with progress and a
    /// report.
    Ingest(IngestArgs),
    /// Create or upgrade the store's schema (SQLite file or PostgreSQL database) and print its
    /// version; `serve` does the same at start and refuses a schema newer than itself.
    Migrate(ReindexArgs),
    /// Ask a running gateway's /healthz (or /readyz) on loopback: exit 0 when it answers 200
    /// (the container image's HEALTHCHECK).
    Health(HealthArgs),
    /// Validate FHIR resource files (JSON or XML) against the R4 core, loaded packages and
    /// profiles; needs no server or database. Exit 0 valid, 1 some error, 2 usage.
    Validate(ValidateArgs),
    /// Referral packages: build and sign one, or queue one for a destination.
    #[command(subcommand)]
    Referral(crate::referral_cli::ReferralCommand),
}

/// `tsunagi validate FILE… [--profile URL]… [--packages DIR] [--format json|xml]`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Resource files; each is one resource (a Bundle counts as one).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A profile (canonical URL) every file must also conform to; repeatable.
    #[arg(long = "profile", value_name = "URL")]
    pub profiles: Vec<String>,
    /// Directory of FHIR NPM packages (.tgz or folders) to load over the R4 core.
    #[arg(long, value_name = "DIR")]
    pub packages: Option<PathBuf>,
    /// Input format; default by extension (.xml is XML, anything else JSON).
    #[arg(long, value_name = "FORMAT", value_parser = ["json", "xml"])]
    pub format: Option<String>,
}

/// `tsunagi health [--address HOST:PORT] [--ready]`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The gateway's address [default: the configured listen address, a wildcard host
    /// probed on 127.0.0.1; env TSUNAGI_LISTEN].
    #[arg(long, value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// Probe /readyz (the store answers) instead of /healthz (the process answers).
    #[arg(long)]
    pub ready: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3)]
    pub timeout_secs: u64,
}

/// `tsunagi reindex`.
#[derive(Debug, Args)]
#[command(after_help = env_help())]
pub struct ReindexArgs {
    /// TOML configuration file (the same one `serve` reads).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// SQLite database file or postgres:// URL (overrides the configuration).
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<String>,
}

/// `tsunagi ingest --from ssmix2|hl7v2|dicom PATH…`.
#[derive(Debug, Args)]
#[command(after_help = env_help())]
pub struct IngestArgs {
    /// The source format: `ssmix2` (an SS-MIX2 standard-storage tree), `hl7v2` (files or
    /// folders of HL7 v2 messages) or `dicom`.
    #[arg(long, value_name = "FORMAT")]
    pub from: String,
    /// SS-MIX2 storage roots; HL7 v2 files or folders; DICOM files, folders, DICOMDIRs or zip
    /// archives.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// TOML configuration file (the same one `serve` reads).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// SQLite database file or postgres:// URL (overrides the configuration).
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<String>,
    /// Write the report (JSON: counts per data type and resource type, warnings, errors with
    /// file paths) to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Convert and check everything, store nothing (needs no database).
    #[arg(long)]
    pub dry_run: bool,
    /// Continue from the checkpoint of an interrupted run of the same source.
    #[arg(long)]
    pub resume: bool,
    /// The checkpoint file (default: the database path + `.ingest-checkpoint.json`).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Most messages per store transaction.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
    /// Converting threads (default: the number of cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub workers: Option<u32>,
    /// Validation of the stored resources for this run (`off`, `warn`, `enforce`), over the
    /// configuration's `[validation] mode`.
    #[arg(long, value_name = "MODE", value_parser = ["off", "warn", "enforce"])]
    pub validation: Option<String>,
    /// Stop after this many steps as if interrupted (for testing resume).
    #[arg(long, value_name = "N", hide = true)]
    pub stop_after: Option<usize>,
}

/// `tsunagi convert` flags.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Source format: hl7v2.
    #[arg(long, value_name = "FORMAT")]
    pub from: String,
    /// Files to convert; each HL7 v2 message becomes one Bundle, printed as one JSON line.
    /// With `--from dicom` each path (a file, folder, DICOMDIR or zip) becomes one Bundle.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write the conversion report (every issue with its location) to this JSON file instead
    /// of stderr.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Pretty-print each Bundle (then the output is no longer one Bundle per line).
    #[arg(long)]
    pub pretty: bool,
    /// TOML configuration file; its [source] section names the institution, timezone and
    /// default character set (also TSUNAGI_INSTITUTION, TSUNAGI_TIMEZONE, …).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `tsunagi serve` flags. Each overrides the config file and the environment.
#[derive(Debug, Args)]
#[command(after_help = env_help())]
pub struct ServeArgs {
    /// TOML configuration file (keys: listen, base_path, public_base_url, db, workers,
    /// log_format, [limits], [sqlite], [cache], [source], [mllp], [validation]; see
    /// deploy/tsunagi.example.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080; env TSUNAGI_LISTEN].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// SQLite database file, created on first start, or a postgres:// URL (the shared store
    /// of several replicas) [default: ./tsunagi-data/tsunagi.db; env TSUNAGI_DB].
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<String>,
    /// FHIR base path [default: /fhir; env TSUNAGI_BASE_PATH].
    #[arg(long, value_name = "PATH")]
    pub base_path: Option<String>,
    /// Log style: text or json [default: text; env TSUNAGI_LOG_FORMAT].
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Also accept HL7 v2 over MLLP on this address, e.g. 127.0.0.1:2575 [env TSUNAGI_MLLP].
    #[arg(long, value_name = "ADDR")]
    pub mllp: Option<String>,
    /// Validation of writes for every type without its own mode: off, warn or enforce
    /// [default: warn; env TSUNAGI_VALIDATION_MODE].
    #[arg(long, value_name = "MODE")]
    pub validation_mode: Option<String>,
    /// Directory of FHIR NPM packages loaded at start [env TSUNAGI_VALIDATION_PACKAGES].
    #[arg(long, value_name = "DIR")]
    pub validation_packages: Option<String>,
}

fn env_help() -> String {
    let mut help = String::from("Environment variables (override the config file):\n");
    for (name, meaning) in ENV_VARS {
        help.push_str(&format!("  {name:<32} {meaning}\n"));
    }
    help.push_str(&format!(
        "  {:<32} {}\n",
        "TSUNAGI_LOG", "log filter, e.g. info or tsunagi_gateway=debug (default info)"
    ));
    help.push_str("Precedence: flags > environment > config file > defaults.");
    help
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match load_config(&args) {
            Ok(config) => serve(config),
            Err(message) => {
                eprintln!("tsunagi: {message}");
                ExitCode::from(1)
            }
        },
        Command::Convert(args) => crate::convert::run(&args),
        Command::Ingest(args) => crate::ingest_cli::run(&args),
        Command::Reindex(args) => reindex(&args),
        Command::Migrate(args) => migrate(&args),
        Command::Health(args) => crate::health_cli::run(&args),
        Command::Validate(args) => crate::validate_cli::run(&args),
        Command::Referral(command) => crate::referral_cli::run(&command),
    }
}

/// Builds the configuration from defaults, file, environment and flags.
pub fn load_config(args: &ServeArgs) -> Result<Config, String> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(listen) = &args.listen {
        config.listen = listen.clone();
    }
    if let Some(db) = &args.db {
        config.db = db.clone();
    }
    if let Some(base_path) = &args.base_path {
        config.base_path = base_path.clone();
    }
    if let Some(mllp) = &args.mllp {
        config.mllp.listen = Some(mllp.clone());
    }
    if let Some(mode) = &args.validation_mode {
        config.validation.mode = match mode.as_str() {
            "off" => ValidationMode::Off,
            "warn" => ValidationMode::Warn,
            "enforce" => ValidationMode::Enforce,
            other => {
                return Err(format!(
                    "--validation-mode: '{other}' is not off, warn or enforce"
                ))
            }
        };
    }
    if let Some(packages) = &args.validation_packages {
        config.validation.packages = Some(packages.clone());
    }
    if let Some(log_format) = &args.log_format {
        config.log_format = match log_format.as_str() {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            other => return Err(format!("--log-format: '{other}' is not text or json")),
        };
    }
    config.validate().map_err(|error| error.to_string())?;
    Ok(config)
}

/// `tsunagi reindex`: opens the configured store and rebuilds every search index entry.
/// The configuration of a store command (`reindex`, `migrate`): file, environment, `--db`.
pub(crate) fn store_config(command: &str, args: &ReindexArgs) -> Result<Config, ExitCode> {
    let mut config = Config::load(args.config.as_deref()).map_err(|message| {
        eprintln!("tsunagi {command}: {message}");
        ExitCode::from(1)
    })?;
    if let Some(db) = &args.db {
        config.db = db.clone();
    }
    Ok(config)
}

/// Opens the configured store for a command, or says why not.
pub(crate) fn open_store(command: &str, config: &Config) -> Result<store::Opened, ExitCode> {
    store::open(config).map_err(|error| {
        eprintln!(
            "tsunagi {command}: cannot open the store {}: {error}",
            store::describe(&config.db)
        );
        ExitCode::from(1)
    })
}

fn migrate(args: &ReindexArgs) -> ExitCode {
    let config = match store_config("migrate", args) {
        Ok(config) => config,
        Err(code) => return code,
    };
    if !store::is_postgres_url(&config.db) {
        return match open_store("migrate", &config) {
            Ok(_) => {
                println!("{}: schema up to date", store::describe(&config.db));
                ExitCode::SUCCESS
            }
            Err(code) => code,
        };
    }
    let versions =
        PostgresStore::open(&config.db, &config.postgres).and_then(|store| store.schema_versions());
    match versions {
        Ok((found, newest)) => {
            println!(
                "{}: schema version {found} (this binary knows up to {newest})",
                store::describe(&config.db)
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("tsunagi migrate: {}: {error}", store::describe(&config.db));
            ExitCode::from(1)
        }
    }
}

fn reindex(args: &ReindexArgs) -> ExitCode {
    let config = match store_config("reindex", args) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let store = match open_store("reindex", &config) {
        Ok(opened) => opened.store,
        Err(code) => return code,
    };
    let gateway = match Gateway::new(config, store) {
        Ok(gateway) => gateway,
        Err(error) => {
            eprintln!("tsunagi reindex: {error}");
            return ExitCode::from(1);
        }
    };
    let result = actix_web::rt::System::new().block_on(gateway.reindex(&mut |done| {
        eprint!("\r{done} resources indexed");
    }));
    match result {
        Ok(done) => {
            eprintln!("\r{done} resources indexed");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("\ntsunagi reindex: {error}");
            ExitCode::from(1)
        }
    }
}

/// Sets up logging to stderr.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TSUNAGI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// How long a stopping server waits for MLLP messages in flight.
const MLLP_DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

fn serve(config: Config) -> ExitCode {
    init_logging(config.log_format);
    // Packages and required profiles are checked before the store is opened or a port bound:
    // a server that cannot validate as configured must not start.
    let validation = match WriteValidation::from_config(&config.validation) {
        Ok(validation) => Arc::new(validation),
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::from(1);
        }
    };
    let referral_keys = match ReferralKeys::load(&config.referral) {
        Ok(keys) => Arc::new(keys),
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::from(1);
        }
    };
    let senders = match Senders::from_config(&config.referral) {
        Ok(senders) => Arc::new(senders),
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::from(1);
        }
    };
    let store::Opened {
        store,
        needs_reindex,
    } = match store::open(&config) {
        Ok(opened) => opened,
        Err(error) => {
            tracing::error!(db = %store::describe(&config.db), %error, "cannot open the store");
            return ExitCode::from(1);
        }
    };
    if needs_reindex {
        tracing::info!("the store predates the search index: indexing every resource first");
        let gateway =
            Gateway::with_validation(config.clone(), Arc::clone(&store), Arc::clone(&validation));
        let indexed = actix_web::rt::System::new().block_on(gateway.reindex(&mut |done| {
            tracing::info!(done, "indexed");
        }));
        if let Err(error) = indexed {
            tracing::error!(%error, "re-indexing failed");
            return ExitCode::from(1);
        }
    }
    let listener = match TcpListener::bind(&config.listen) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(listen = %config.listen, %error, "cannot listen");
            return ExitCode::from(1);
        }
    };
    if config.public_base_url.is_none()
        && (config.listen.starts_with("0.0.0.0") || config.listen.starts_with("[::]"))
    {
        tracing::warn!(
            listen = %config.listen,
            "listening on all interfaces without public_base_url: Location headers and Bundle links will name {}; set TSUNAGI_PUBLIC_BASE_URL",
            config.base_url()
        );
    }
    tracing::info!(
        listen = %config.listen,
        base_url = %config.base_url(),
        db = %store::describe(&config.db),
        "Tsunagi FHIR gateway serving"
    );
    let mllp_listener = match &config.mllp.listen {
        Some(address) => match TcpListener::bind(address) {
            Ok(listener) => {
                tracing::info!(mllp = %address, "MLLP listener accepting HL7 v2");
                Some(listener)
            }
            Err(error) => {
                tracing::error!(mllp = %address, %error, "cannot listen for MLLP");
                return ExitCode::from(1);
            }
        },
        None => None,
    };
    let delivers = !config.referral.destinations.is_empty();
    let gateway = Arc::new(
        Gateway::with_validation(config, store, validation).with_referral_keys(referral_keys),
    );
    let result = actix_web::rt::System::new().block_on(async move {
        // SIGTERM/SIGINT: the HTTP server stops accepting and finishes the requests in flight;
        // then the MLLP listener does the same for the messages in flight; the referral
        // delivery worker stops after its current attempt.
        let (stop_mllp, stop) = tokio::sync::watch::channel(false);
        let delivery = delivers.then(|| {
            let gateway = Arc::clone(&gateway);
            let stop = stop.clone();
            actix_web::rt::spawn(crate::referral::delivery::run(gateway, senders, stop))
        });
        let mllp = mllp_listener.map(|listener| {
            let gateway = Arc::clone(&gateway);
            actix_web::rt::spawn(async move {
                if let Err(error) = crate::mllp::serve_until(gateway, listener, stop).await {
                    tracing::error!(%error, "MLLP listener failed");
                }
            })
        });
        let served = crate::http::start(gateway, listener)?.await;
        let _ = stop_mllp.send(true);
        if let Some(delivery) = delivery {
            let _ = tokio::time::timeout(MLLP_DRAIN, delivery).await;
        }
        if let Some(mllp) = mllp {
            if tokio::time::timeout(MLLP_DRAIN, mllp).await.is_err() {
                tracing::warn!("MLLP connections still open after the drain time; closing them");
            }
        }
        served
    });
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::from(1)
        }
    }
}
