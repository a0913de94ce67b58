//! The `tsunagi` binary: see `tsunagi --help`.

fn main() -> std::process::ExitCode {
    tsunagi_gateway::cli::run()
}
