//! `steward-agent`: the endpoint agent that runs on client machines.
//!
//! This binary is deliberately tiny and dependency-light (every crate in it
//! runs on customers' machines). The foundation ships only its identity and
//! version reporting; enrollment, the signed command channel, inventory,
//! metrics and scripts arrive with the agent issue and speak the types in
//! `steward-protocol`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version") | Some("-V") | Some("version") => {
            println!("steward-agent {} (protocol {})", env!("CARGO_PKG_VERSION"), steward_protocol::PROTOCOL_VERSION);
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "steward-agent {}: enrollment and the agent service are not part of this build yet.\n\
                 usage: steward-agent --version",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::from(2)
        }
    }
}
