-- Recurring tickets and saved queue filters (issue 13). Never edit: add a
-- file. (0016 is taken by another branch.)

-- A ticket opened on a schedule: what the ticket will say, and when.
-- `schedule` is the rule as JSON (recurring::model::Rule), `time_of_day`
-- seconds after local midnight in `timezone` (IANA). `next_run_at` is the
-- next occurrence as a UTC instant; the job creates the ticket and moves
-- it on in one transaction, so an occurrence is created once.
CREATE TABLE recurring_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    site_id BIGINT REFERENCES sites (id),
    contact_id BIGINT REFERENCES contacts (id),
    assignee_id BIGINT REFERENCES users (id),
    board_id BIGINT REFERENCES ticket_boards (id),
    priority_id BIGINT REFERENCES ticket_priorities (id),
    ticket_type TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    -- JSON ["maintenance"]
    tags TEXT NOT NULL DEFAULT '[]',
    schedule TEXT NOT NULL,
    time_of_day BIGINT NOT NULL,
    timezone TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    next_run_at BIGINT,
    last_run_at BIGINT,
    last_ticket_id BIGINT REFERENCES tickets (id),
    -- Why the last occurrence opened no ticket (e.g. the assignee was
    -- disabled); cleared by the next that does.
    last_error TEXT,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX recurring_tickets_client ON recurring_tickets (client_id, id);
CREATE INDEX recurring_tickets_due ON recurring_tickets (active, next_run_at);

-- A user's named queue filter: the query string as `tickets::queue`
-- reads it, normalized (known parameters in a fixed order, no empties).
CREATE TABLE saved_filters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX saved_filters_name ON saved_filters (user_id, name);
