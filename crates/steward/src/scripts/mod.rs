//! Scripts: the MSP's library (bash, sh, Python, PowerShell, cmd) with
//! parameters, a timeout and a run-as; runs on one device, a selection, or
//! every device of a client or site, now or at a set time; per-device
//! output (capped, the cap shown). A run that reaches more devices than the
//! configured threshold, or more than one client, waits for a second
//! person's approval. Every change and every run is audited with the
//! script's hash, and a run carries a copy of the text it was approved with.

pub mod api;
pub mod dispatch;
pub mod model;
pub mod pages;
pub mod store;
