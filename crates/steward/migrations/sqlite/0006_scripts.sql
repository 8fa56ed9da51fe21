-- The script library, script runs and their per-device results (issue 4).

CREATE TABLE scripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    shell TEXT NOT NULL,
    body TEXT NOT NULL,
    -- JSON list of {name, label, default, required}.
    parameters TEXT NOT NULL DEFAULT '[]',
    timeout_secs BIGINT NOT NULL,
    run_as TEXT NOT NULL DEFAULT 'system',
    -- SHA-256 of shell and body: what the audit log and every run name.
    hash TEXT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX scripts_name_key ON scripts (name);

-- One request to run a script on a set of devices. The script's text is
-- copied in, so a later edit of the library cannot change what was approved.
CREATE TABLE script_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    script_id BIGINT NOT NULL REFERENCES scripts (id),
    script_name TEXT NOT NULL,
    script_hash TEXT NOT NULL,
    shell TEXT NOT NULL,
    body TEXT NOT NULL,
    params TEXT NOT NULL,
    timeout_secs BIGINT NOT NULL,
    run_as TEXT NOT NULL,
    -- awaiting_approval, scheduled, running, done, rejected
    state TEXT NOT NULL,
    requested_by BIGINT NOT NULL REFERENCES users (id),
    requested_at BIGINT NOT NULL,
    approved_by BIGINT REFERENCES users (id),
    decided_at BIGINT,
    scheduled_for BIGINT,
    device_count BIGINT NOT NULL,
    -- JSON list of the client ids the devices belong to.
    client_ids TEXT NOT NULL
);
CREATE INDEX script_runs_state ON script_runs (state, scheduled_for);

CREATE TABLE script_results (
    run_id BIGINT NOT NULL REFERENCES script_runs (id),
    device_id BIGINT NOT NULL REFERENCES devices (id),
    client_id BIGINT NOT NULL REFERENCES clients (id),
    -- pending (waits for the device), sent, done, failed, expired
    state TEXT NOT NULL,
    command_id TEXT,
    exit_code BIGINT,
    stdout TEXT NOT NULL DEFAULT '',
    stderr TEXT NOT NULL DEFAULT '',
    stdout_truncated BOOLEAN NOT NULL DEFAULT FALSE,
    stderr_truncated BOOLEAN NOT NULL DEFAULT FALSE,
    error TEXT,
    duration_ms BIGINT,
    sent_at BIGINT,
    finished_at BIGINT,
    PRIMARY KEY (run_id, device_id)
);
CREATE INDEX script_results_device ON script_results (device_id, state);
CREATE UNIQUE INDEX script_results_command ON script_results (command_id);
