//! Files kept outside the database: their bytes under their SHA-256 in the
//! data directory (`store`, written whole or not at all, stored once
//! however often uploaded), and the pure rules every domain that takes
//! files from people applies (`model`: the names kept, the types served).
//! A shared service below the domains: ticket attachments use it now, the
//! knowledge base's attachments will keep the same rules.

pub mod model;
pub mod store;
