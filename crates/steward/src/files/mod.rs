//! Files kept outside the database: their bytes under their SHA-256 in the
//! data directory (`store`, written whole or not at all, stored once
//! however often uploaded), and the pure rules every domain that takes
//! files from people applies (`model`: the names kept, the types served).
//! A shared service below the domains: ticket attachments use it now, the
//! knowledge base's attachments will keep the same rules.
//!
//! **Files** (attachments) are not in the database: their bytes live under
//! their SHA-256 at `DATA_DIR/files/ab/cd/<sha256>` and a row names them
//! (ticket, entry, client, sanitized name, served type, size). Keeping them
//! out keeps the database small enough to back up and `VACUUM INTO`
//! quickly, and the hash makes the same file uploaded a hundred times one
//! file. An upload streams to `files/tmp/`, is flushed, renamed into place
//! and its folder flushed, and only then is the row written, so neither a
//! crash nor a refused upload (over `attachment_max_bytes`, 25 MiB by
//! default: 413) leaves a row without its file or a half file under a final
//! name; what can be left is an unreferenced file, harmless. With several
//! nodes the directory must be shared (or, later, an object store behind
//! the same `files::store` calls); `steward backup` copies the database
//! only, so back up `files/` with it.
//!
//! **Serving a file** never lets a browser treat it as one of our pages:
//! `Content-Disposition: attachment` (the name percent-encoded), the type
//! only from a short list that runs no script (PNG, JPEG, GIF, WebP, PDF,
//! plain text; anything else, HTML and SVG included, is
//! `application/octet-stream`), `X-Content-Type-Options: nosniff` and
//! `Content-Security-Policy: default-src 'none'; sandbox`
//! (`http::download`; `tests/it/attachments.rs`).

pub mod model;
pub mod store;
