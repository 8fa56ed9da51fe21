-- Email in: mailboxes polled over IMAP, and every message handled, once.

-- A mailbox Steward reads. The password is sealed (envelope encryption,
-- never returned); `uid_validity` and `last_uid` are where reading stands,
-- moved in the same transaction as the ticket a message makes.
CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL,
    port BIGINT NOT NULL,
    -- tls, starttls, plain (loopback only)
    security TEXT NOT NULL,
    username TEXT NOT NULL,
    password_sealed TEXT NOT NULL,
    folder TEXT NOT NULL DEFAULT 'INBOX',
    ca_pem TEXT,
    -- Where mail from unknown senders goes.
    default_client_id BIGINT NOT NULL REFERENCES clients (id),
    board_id BIGINT REFERENCES ticket_boards (id),
    poll_secs BIGINT NOT NULL DEFAULT 60,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    uid_validity BIGINT,
    last_uid BIGINT NOT NULL DEFAULT 0,
    next_poll_at BIGINT NOT NULL DEFAULT 0,
    last_polled_at BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every message read (and, later, sent), by its Message-ID: how replies
-- find their ticket, and what became of each message.
CREATE TABLE mail_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox_id BIGINT REFERENCES mailboxes (id),
    -- in, out
    direction TEXT NOT NULL,
    message_id TEXT NOT NULL,
    uid_validity BIGINT,
    uid BIGINT,
    ticket_id BIGINT REFERENCES tickets (id),
    entry_id BIGINT REFERENCES ticket_entries (id),
    from_address TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    -- new_ticket, reply, note, unknown_sender, flood, unreadable
    handling TEXT NOT NULL,
    -- Why it must not be answered automatically, if so.
    automatic TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL
);
CREATE INDEX mail_messages_message_id ON mail_messages (message_id);
CREATE INDEX mail_messages_sender ON mail_messages (from_address, at);
-- A message of a mailbox is handled once (a UID is unique within its UIDVALIDITY).
CREATE UNIQUE INDEX mail_messages_uid ON mail_messages (mailbox_id, uid_validity, uid) WHERE uid IS NOT NULL;
