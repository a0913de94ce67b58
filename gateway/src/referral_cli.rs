//! `tsunagi referral build SERVICEREQUEST_ID [--out FILE]` and `tsunagi referral send
//! SERVICEREQUEST_ID --destination NAME`: the `$referral-package` operation on the
//! configured store, without a running server (a running `serve` delivers what `send`
//! queues).

use crate::cli::{open_store, store_config, ReindexArgs};
use crate::Gateway;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// `tsunagi referral …`.
#[derive(Debug, Subcommand)]
pub enum ReferralCommand {
    /// Build and sign the package of a referral ServiceRequest and write the document Bundle.
    Build(ReferralArgs),
    /// Build, sign and queue the package for a configured destination (a running `serve`
    /// delivers it); prints the delivery Task's id.
    Send(ReferralArgs),
}

/// Arguments of `tsunagi referral build|send`.
#[derive(Debug, Args)]
pub struct ReferralArgs {
    /// The referral ServiceRequest's id.
    #[arg(value_name = "SERVICEREQUEST_ID")]
    pub service_request: String,
    /// Where to write the package (build; default stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The configured destination name (send).
    #[arg(long, value_name = "NAME")]
    pub destination: Option<String>,
    /// Configuration and store.
    #[command(flatten)]
    pub store: ReindexArgs,
}

/// Runs `tsunagi referral …`.
pub fn run(command: &ReferralCommand) -> ExitCode {
    let (args, name) = match command {
        ReferralCommand::Build(args) => (args, "referral build"),
        ReferralCommand::Send(args) => (args, "referral send"),
    };
    let config = match store_config(name, &args.store) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let store = match open_store(name, &config) {
        Ok(opened) => opened.store,
        Err(code) => return code,
    };
    let gateway = match Gateway::new(config, store) {
        Ok(gateway) => gateway,
        Err(error) => {
            eprintln!("tsunagi {name}: {error}");
            return ExitCode::from(1);
        }
    };
    let system = actix_web::rt::System::new();
    let result = match command {
        ReferralCommand::Build(_) => system
            .block_on(crate::referral::build_signed(
                &gateway,
                &args.service_request,
            ))
            .map_err(|error| error.to_string())
            .and_then(|package| {
                let text = serde_json::to_string_pretty(&package.bundle)
                    .map_err(|error| error.to_string())?;
                for left_out in &package.left_out {
                    eprintln!("left out: {left_out}");
                }
                match &args.out {
                    Some(path) => std::fs::write(path, text + "\n")
                        .map_err(|error| format!("cannot write {}: {error}", path.display())),
                    None => {
                        println!("{text}");
                        Ok(())
                    }
                }
            }),
        ReferralCommand::Send(_) => match &args.destination {
            None => Err("--destination NAME is required".into()),
            Some(destination) => system
                .block_on(crate::referral::send(
                    &gateway,
                    &args.service_request,
                    destination,
                ))
                .map(|(_, task_id)| println!("Task/{task_id}"))
                .map_err(|error| error.to_string()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tsunagi {name}: {message}");
            ExitCode::from(1)
        }
    }
}
