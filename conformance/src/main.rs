//! `tsunagi-conformance`: see `cli`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    tsunagi_conformance::cli::main()
}
