//! How the benchmarks time pages and APIs: a path fetched one request at a
//! time (a warm-up first), and latencies as percentiles in milliseconds.

use crate::common::Client;
use std::time::{Duration, Instant};

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The `p` percentile of sorted latencies.
pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// p50, p95 and p99 of `n` GETs of `path` (each must answer 200).
pub async fn time(c: &Client, path: &str, n: usize) -> [Duration; 3] {
    let mut lat = vec![];
    for i in 0..=n {
        let t = Instant::now();
        let (st, body) = c.get_text(path).await;
        assert_eq!(st, 200, "{path}: {body}");
        if i > 0 {
            lat.push(t.elapsed());
        }
    }
    lat.sort();
    [pct(&lat, 0.5), pct(&lat, 0.95), pct(&lat, 0.99)]
}
