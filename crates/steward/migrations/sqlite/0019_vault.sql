-- The credentials vault (issue 17). Never edit: add a file.

-- When a session last proved its second factor (sign-in with a code, or a
-- fresh code asked for later): revealing a secret needs a recent one.
ALTER TABLE sessions ADD COLUMN mfa_at BIGINT;

-- A client's credential. What people look up (name, user name, URL,
-- notes, folder) is plain; the secrets (password, TOTP seed, custom
-- fields) are one sealed JSON document: its own data key, wrapped by the
-- master key, with the entry, its client and its version bound in as
-- associated data (vault::model::context), so a value copied onto another
-- row, client or version does not open. `password_hash` is a keyed hash
-- (the master key's) to find reused passwords without reading them.
CREATE TABLE vault_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    folder TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    sealed TEXT NOT NULL,
    has_totp BOOLEAN NOT NULL,
    -- JSON ["recovery key", ...]: the custom fields' names, not values.
    field_names TEXT NOT NULL DEFAULT '[]',
    password_hash TEXT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users (id),
    updated_at BIGINT NOT NULL,
    archived_at BIGINT
);
CREATE INDEX vault_entries_client ON vault_entries (client_id, folder, name);

-- Every earlier version of an entry, sealed as it was (same context).
CREATE TABLE vault_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id BIGINT NOT NULL REFERENCES vault_entries (id),
    version BIGINT NOT NULL,
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    username TEXT NOT NULL,
    url TEXT NOT NULL,
    notes TEXT NOT NULL,
    sealed TEXT NOT NULL,
    changed_by BIGINT REFERENCES users (id),
    changed_at BIGINT NOT NULL,
    UNIQUE (entry_id, version)
);

-- Each reveal (also in the audit log): the entry page's "who looked",
-- and the per-user rate limit.
CREATE TABLE vault_reveals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id BIGINT NOT NULL REFERENCES vault_entries (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    fields TEXT NOT NULL,
    ip TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX vault_reveals_entry ON vault_reveals (entry_id, at);
CREATE INDEX vault_reveals_user ON vault_reveals (user_id, at);
