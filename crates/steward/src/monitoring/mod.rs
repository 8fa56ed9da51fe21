//! Monitoring: the metrics agents report (CPU, memory, each disk, network),
//! stored raw for a configurable retention and rolled up into 5-minute and
//! hourly min/avg/max for long ranges; read by the device page's charts.
//! Checks and alerts join this domain in a later issue.

pub mod api;
pub mod ingest;
pub mod samples;
pub mod store;
