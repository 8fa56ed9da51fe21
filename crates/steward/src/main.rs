//! `steward`: the server and its admin CLI. See `steward --help`.

fn main() -> std::process::ExitCode {
    steward::cli::main()
}
