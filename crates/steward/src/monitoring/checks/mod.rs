//! Checks: the pure state machine every check result goes through
//! (`model`: hysteresis and flapping).

pub mod model;
