//! The boxed future type of the function pointers domains register (jobs,
//! listeners, search sources, panels): plain `fn` items, so a domain's
//! registration is data, not closures.

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
