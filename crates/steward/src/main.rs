//! `steward`: the server and its admin CLI. See `steward --help`.

/// mimalloc instead of glibc's allocator: after a burst (a fleet enrolling
/// or reconnecting, thousands of TLS handshakes at once) glibc keeps the
/// freed memory in its arenas, and a node's resident memory stays at the
/// high-water mark; mimalloc gives it back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    steward::cli::main()
}
