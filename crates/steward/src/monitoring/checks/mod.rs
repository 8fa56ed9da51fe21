//! Checks: the pure state machine every check result goes through
//! (`model`: hysteresis and flapping), the tables of states, results and
//! changes (`store`), the queue from agents' connections (`runtime`) and
//! the task that sends agents their checks and takes in their results
//! (`agents`), and the device page's checks (`pages`).

pub mod agents;
pub mod model;
pub mod pages;
pub mod runtime;
pub mod store;
