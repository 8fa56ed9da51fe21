//! Online and offline: how a batch of connects and disconnects settles
//! (`model`, pure), its storage (`store`: the flags and the history), and
//! the batched writer that records them (`runtime`).

pub mod model;
pub mod runtime;
pub mod store;
