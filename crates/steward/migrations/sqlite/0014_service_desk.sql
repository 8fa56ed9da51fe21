-- The service desk (issue 13): configurable statuses, priorities and
-- boards; tickets numbered without gaps; their threads, tags, devices,
-- links and SLA pauses; business calendars and SLA policies. Never edit:
-- add a file.

-- Business hours an SLA counts in: an IANA zone and weekly spans (JSON
-- [{day, start, end}], day 1 = Monday), holidays (JSON ["2026-12-25"]),
-- or round the clock.
CREATE TABLE business_calendars (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    always BOOLEAN NOT NULL,
    weekly TEXT NOT NULL DEFAULT '[]',
    holidays TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX business_calendars_name ON business_calendars (name);

-- Per-priority targets in business minutes; a warning at warn_permille of
-- a target. At most one policy is the installation's default.
CREATE TABLE sla_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    calendar_id BIGINT NOT NULL REFERENCES business_calendars (id),
    warn_permille BIGINT NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sla_policies_name ON sla_policies (name);
CREATE UNIQUE INDEX sla_policies_default ON sla_policies (is_default) WHERE is_default;

CREATE TABLE ticket_priorities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX ticket_priorities_code ON ticket_priorities (code);
INSERT INTO ticket_priorities (code, name, position) VALUES
    ('P1', 'Critical', 1), ('P2', 'High', 2), ('P3', 'Medium', 3), ('P4', 'Low', 4);

CREATE TABLE sla_targets (
    policy_id BIGINT NOT NULL REFERENCES sla_policies (id),
    priority_id BIGINT NOT NULL REFERENCES ticket_priorities (id),
    first_response_minutes BIGINT NOT NULL,
    resolution_minutes BIGINT NOT NULL,
    PRIMARY KEY (policy_id, priority_id)
);

ALTER TABLE clients ADD COLUMN sla_policy_id BIGINT REFERENCES sla_policies (id);

-- Each status is one of the fixed kinds new, open, waiting, scheduled,
-- resolved, closed; pauses_sla stops the resolution clock while a ticket
-- is in it.
CREATE TABLE ticket_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    pauses_sla BOOLEAN NOT NULL,
    position BIGINT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX ticket_statuses_name ON ticket_statuses (name);
INSERT INTO ticket_statuses (name, kind, pauses_sla, position) VALUES
    ('New', 'new', FALSE, 1),
    ('Open', 'open', FALSE, 2),
    ('Waiting on client', 'waiting', TRUE, 3),
    ('Waiting on third party', 'waiting', TRUE, 4),
    ('Scheduled', 'scheduled', FALSE, 5),
    ('Resolved', 'resolved', FALSE, 6),
    ('Closed', 'closed', FALSE, 7);

CREATE TABLE ticket_boards (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX ticket_boards_name ON ticket_boards (name);
INSERT INTO ticket_boards (name) VALUES ('Help desk');

-- The last ticket number handed out. A create increments it inside its
-- own transaction, so a rolled-back create leaves no gap and two creates
-- never share a number (the row lock, or SQLite's write lock, orders them).
CREATE TABLE ticket_counter (
    id BIGINT PRIMARY KEY,
    last_number BIGINT NOT NULL
);
INSERT INTO ticket_counter (id, last_number) VALUES (1, 1000);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number BIGINT NOT NULL,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    site_id BIGINT REFERENCES sites (id),
    contact_id BIGINT REFERENCES contacts (id),
    subject TEXT NOT NULL,
    status_id BIGINT NOT NULL REFERENCES ticket_statuses (id),
    -- The status's kind, copied for the queue's filters.
    status_kind TEXT NOT NULL,
    priority_id BIGINT NOT NULL REFERENCES ticket_priorities (id),
    -- incident, service_request, problem, change
    ticket_type TEXT NOT NULL,
    board_id BIGINT NOT NULL REFERENCES ticket_boards (id),
    assignee_id BIGINT REFERENCES users (id),
    due_at BIGINT,
    opened_at BIGINT NOT NULL,
    first_response_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    merged_into BIGINT REFERENCES tickets (id),
    parent_id BIGINT REFERENCES tickets (id),
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- The SLA as the ticket started it (or as its client and priority last
    -- changed): the policy, its calendar as it was then (JSON), the targets
    -- in business seconds and the warning fraction, so editing a policy
    -- later does not rewrite what was measured.
    sla_policy_id BIGINT REFERENCES sla_policies (id),
    sla_calendar TEXT,
    sla_first_response_secs BIGINT,
    sla_resolution_secs BIGINT,
    sla_warn_permille BIGINT,
    -- Worked out at every change and by the SLA job, for the queue: the
    -- worse state of the two clocks, the earlier running due time, the next
    -- instant the job must look (a warning or breach to announce), and what
    -- it announced already (none, warning, breached) per clock.
    sla_state TEXT,
    sla_due_at BIGINT,
    sla_next_check_at BIGINT,
    sla_first_response_announced TEXT NOT NULL DEFAULT 'none',
    sla_resolution_announced TEXT NOT NULL DEFAULT 'none'
);
CREATE UNIQUE INDEX tickets_number ON tickets (number);
CREATE INDEX tickets_client ON tickets (client_id, status_kind, id);
CREATE INDEX tickets_queue ON tickets (status_kind, id);
CREATE INDEX tickets_updated ON tickets (status_kind, updated_at);
CREATE INDEX tickets_due ON tickets (status_kind, sla_due_at);
CREATE INDEX tickets_assignee ON tickets (assignee_id, status_kind, id);
CREATE INDEX tickets_board ON tickets (board_id, status_kind, id);
CREATE INDEX tickets_sla_check ON tickets (sla_next_check_at);
CREATE INDEX tickets_resolved ON tickets (status_kind, resolved_at);

CREATE TABLE ticket_tags (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX ticket_tags_tag ON ticket_tags (tag, ticket_id);

CREATE TABLE ticket_devices (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    device_id BIGINT NOT NULL REFERENCES devices (id),
    PRIMARY KEY (ticket_id, device_id)
);
CREATE INDEX ticket_devices_device ON ticket_devices (device_id);

-- The thread: public replies, internal notes and system events (details
-- as JSON), oldest first by id.
CREATE TABLE ticket_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    -- reply, note, event
    kind TEXT NOT NULL,
    author_id BIGINT REFERENCES users (id),
    body TEXT NOT NULL,
    details TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_entries_ticket ON ticket_entries (ticket_id, created_at, id);

-- Intervals the resolution clock stood still (a pausing status, or
-- resolved until reopened); ended_at NULL while it still does.
CREATE TABLE ticket_pauses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    started_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX ticket_pauses_ticket ON ticket_pauses (ticket_id, started_at);

-- Related tickets, stored once with the smaller id first.
CREATE TABLE ticket_links (
    a_id BIGINT NOT NULL REFERENCES tickets (id),
    b_id BIGINT NOT NULL REFERENCES tickets (id),
    PRIMARY KEY (a_id, b_id)
);
CREATE INDEX ticket_links_b ON ticket_links (b_id);

-- What a user is told (an SLA warning or breach on a ticket assigned to
-- them); read_at once seen.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    client_id BIGINT REFERENCES clients (id),
    ticket_id BIGINT REFERENCES tickets (id),
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, read_at, id);
