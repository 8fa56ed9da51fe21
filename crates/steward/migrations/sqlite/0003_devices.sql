-- Enrolled devices and the server's own keys (issue 4). Never edit: add a file.

CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    enrollment_token_id BIGINT REFERENCES enrollment_tokens (id),
    hostname TEXT NOT NULL,
    os TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    public_key TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    last_seen_at BIGINT,
    online BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX devices_public_key_key ON devices (public_key);
CREATE INDEX devices_client ON devices (client_id, site_id);

-- Signing keys the server holds (the command key), sealed with the master key.
CREATE TABLE server_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_key_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE INDEX server_keys_purpose ON server_keys (purpose);
