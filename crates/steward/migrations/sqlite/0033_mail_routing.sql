-- Email, second part: routing by the sender's domain, a From per client,
-- what a mailbox does with what it has read, and what each queued mail is.

-- A client's mail domains: mail from an address at one of them, from no
-- known contact, goes to that client (and its sender is proposed as a
-- contact). A domain belongs to one client at most.
CREATE TABLE client_mail_domains (
    domain TEXT PRIMARY KEY,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX client_mail_domains_client ON client_mail_domains (client_id);

-- The From (and its display name) mail about this client's tickets is
-- sent with, instead of the installation's.
CREATE TABLE client_mail_from (
    client_id BIGINT PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    from_address TEXT NOT NULL,
    from_name TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

-- The folder read messages are moved to (none: they stay, flagged \Seen),
-- and how many messages from one sender an hour make tickets before the
-- rest are folded into one (a flood, a loop).
ALTER TABLE mailboxes ADD COLUMN move_to TEXT;
ALTER TABLE mailboxes ADD COLUMN flood_per_hour BIGINT NOT NULL DEFAULT 20;

-- reply, acknowledgement, resolution, notification, test
ALTER TABLE mail_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';
-- The client whose From it is sent with, if any.
ALTER TABLE mail_outbox ADD COLUMN client_id BIGINT;

-- Staff notifications by mail: whether a user wants them (beside the
-- in-app list), and who watches a board (told of each new ticket on it).
ALTER TABLE users ADD COLUMN mail_notifications BOOLEAN NOT NULL DEFAULT TRUE;
CREATE TABLE board_watchers (
    board_id BIGINT NOT NULL REFERENCES ticket_boards (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (board_id, user_id)
);
CREATE INDEX board_watchers_user ON board_watchers (user_id);
