//! A user's own page settings (`store`): which columns a list shows, the
//! views they saved. Each domain decides what its keys hold.

pub mod store;
