-- Time on tickets (issue 13): work types, entries (a running timer is an
-- entry without minutes, one per user at most), approved weeks locked.

CREATE TABLE work_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    billable BOOLEAN NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX work_types_name ON work_types (name);
INSERT INTO work_types (name, billable) VALUES
    ('Remote support', TRUE), ('On-site', TRUE), ('Project', TRUE), ('Internal', FALSE);

CREATE TABLE time_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    -- The ticket's client, copied for the timesheet's and billing's filters.
    client_id BIGINT NOT NULL REFERENCES clients (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    work_type_id BIGINT NOT NULL REFERENCES work_types (id),
    started_at BIGINT NOT NULL,
    -- Whole minutes; NULL while the timer runs.
    minutes BIGINT,
    billable BOOLEAN NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    approved_at BIGINT,
    approved_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX time_entries_ticket ON time_entries (ticket_id, started_at);
CREATE INDEX time_entries_user ON time_entries (user_id, started_at);
CREATE INDEX time_entries_client ON time_entries (client_id, started_at);
CREATE UNIQUE INDEX time_entries_running ON time_entries (user_id) WHERE minutes IS NULL;
