-- Agent enrollment tokens (issue 4). Released migrations are never edited.

CREATE TABLE enrollment_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    max_uses BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX enrollment_tokens_hash_key ON enrollment_tokens (token_hash);
CREATE INDEX enrollment_tokens_site ON enrollment_tokens (client_id, site_id);
