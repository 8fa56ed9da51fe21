-- Email out: every mail Steward sends is first a row here, written in the
-- same transaction as what it tells of (a public reply), and sent by the
-- leased mail.send job; marked sent only after the server accepted it.
-- Its Message-ID is fixed before the first try, so a retry is the same
-- message and replies to it thread.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT REFERENCES tickets (id),
    entry_id BIGINT REFERENCES ticket_entries (id),
    -- JSON arrays of addresses.
    to_addresses TEXT NOT NULL,
    cc_addresses TEXT NOT NULL DEFAULT '[]',
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    in_reply_to TEXT NOT NULL DEFAULT '',
    -- Space-separated, oldest first.
    refs TEXT NOT NULL DEFAULT '',
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    -- pending, sent, failed
    state TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_at) WHERE state = 'pending';
CREATE INDEX mail_outbox_ticket ON mail_outbox (ticket_id);

-- Whom the client's side copied on a message, kept so replies copy them too.
ALTER TABLE mail_messages ADD COLUMN cc TEXT NOT NULL DEFAULT '[]';
