-- Attachments on ticket entries and canned responses (issue 13). Never
-- edit: add a file.

-- A file on a ticket (on one of its entries, or on the ticket itself).
-- Its bytes live outside the database, under their SHA-256 in the data
-- directory (files/ab/cd/<sha256>), kept once however often uploaded.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    entry_id BIGINT REFERENCES ticket_entries (id),
    -- The ticket's client, copied for scoped reads; a merge or a client
    -- move updates it with the ticket.
    client_id BIGINT NOT NULL REFERENCES clients (id),
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    -- Sanitized: one plain name, no path parts or control characters.
    file_name TEXT NOT NULL,
    -- The type it is served as: one of a short safe list, or
    -- application/octet-stream.
    content_type TEXT NOT NULL,
    uploaded_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id, id);
CREATE INDEX attachments_sha256 ON attachments (sha256);

-- Text a technician starts a reply from, with placeholders
-- ({{contact.first_name}}, {{ticket.number}}, ...). client_id NULL: for
-- every client; owner_id NULL: shared with everyone, else one user's own.
CREATE TABLE canned_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    client_id BIGINT REFERENCES clients (id),
    owner_id BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX canned_responses_owner ON canned_responses (owner_id, name);
CREATE INDEX canned_responses_client ON canned_responses (client_id, name);
