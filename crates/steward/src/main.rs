//! `steward`: the server and its admin CLI. See `steward --help`.

/// mimalloc instead of glibc's allocator: after a burst (a fleet enrolling
/// or reconnecting, thousands of TLS handshakes at once) glibc keeps the
/// freed memory in its arenas, and a node's resident memory stays at the
/// high-water mark; mimalloc gives it back. Its 2.x line (the crate's `v2`
/// feature): after 8,000 agents enrolled, mimalloc 3 held 12.0 KiB per
/// connection where 2.x holds 7.4, with the same live heap (`bench/RESULTS.md`). (`--features system-alloc` keeps
/// glibc's, for heap profilers that watch malloc: `bench/heap-profile.sh`.)
#[cfg(not(any(feature = "heap-count", feature = "system-alloc")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Benchmarks only (`--features heap-count`): the same allocator behind a
/// counter of live bytes, written every half second to the file named by
/// `STEWARD_HEAP_COUNT_FILE`, so the fleet benchmark can tell the memory
/// connections hold from what the allocator keeps (SQLite's own
/// allocations go to glibc's malloc and are not counted).
#[cfg(feature = "heap-count")]
#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

fn main() -> std::process::ExitCode {
    // Whatever the server writes (the database and its WAL, keys, TLS
    // material, anchors) is readable by its own user only.
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    #[cfg(feature = "heap-count")]
    if let Ok(path) = std::env::var("STEWARD_HEAP_COUNT_FILE") {
        std::thread::spawn(move || loop {
            let _ = std::fs::write(&path, ALLOCATOR.allocated().to_string());
            std::thread::sleep(std::time::Duration::from_millis(500));
        });
    }
    steward::cli::main()
}
