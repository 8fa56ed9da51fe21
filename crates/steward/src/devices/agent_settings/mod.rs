//! The settings an agent runs with (heartbeat and metric periods),
//! inherited server → client → site → device: the pure resolution
//! (`model`), a device's own settings (`device`) and telling connected
//! agents at once when a level changes (`push`).

pub mod device;
pub mod form;
pub mod model;
pub mod push;
