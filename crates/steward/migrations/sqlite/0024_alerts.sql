-- Checks and alerts (issue 15). A check's state per device between
-- results (hysteresis and flapping: `monitoring::checks::model`), and the
-- alerts a failing check opens, with their history. Never edit: add a file.
CREATE TABLE check_states (
    device_id BIGINT NOT NULL REFERENCES devices (id),
    check_key TEXT NOT NULL,
    state TEXT NOT NULL,
    output TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, check_key)
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    device_id BIGINT NOT NULL REFERENCES devices (id),
    check_key TEXT NOT NULL,
    check_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    output TEXT NOT NULL DEFAULT '',
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT,
    snoozed_until BIGINT,
    ticket_id BIGINT
);
-- One unresolved alert per check of a device: a repeat updates it.
CREATE UNIQUE INDEX alerts_unresolved ON alerts (device_id, check_key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_client_state ON alerts (client_id, state, updated_at);
CREATE INDEX alerts_state ON alerts (state, updated_at);

CREATE TABLE alert_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id BIGINT NOT NULL REFERENCES alerts (id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

-- Inventories stored before 0022's facts, found without a scan by the job
-- that fills them in (`devices::inventory::store::backfill_facts`).
CREATE INDEX device_inventory_no_facts ON device_inventory (device_id) WHERE facts_at IS NULL;
