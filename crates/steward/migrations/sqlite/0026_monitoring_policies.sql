-- Monitoring policies (issue 15): sets of checks assigned at the
-- installation, client, site or device level (`monitoring::policies`), the
-- checks a level excludes from what it inherits, each check result as the
-- agent or the server found it (kept like raw metrics), and each change of
-- a check's state (kept two years, drawn as the device page's strips).
-- The standard policy is installed with the server, assigned to the whole
-- installation, so a new installation watches something useful at once.
-- Never edit: add a file.
CREATE TABLE monitoring_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    checks TEXT NOT NULL,
    ticket_on TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX monitoring_policies_name ON monitoring_policies (lower(name));

-- level: installation (target 0), client, site or device.
CREATE TABLE monitoring_policy_links (
    level TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    policy_id BIGINT NOT NULL REFERENCES monitoring_policies (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (level, target_id, policy_id)
);
CREATE INDEX monitoring_policy_links_policy ON monitoring_policy_links (policy_id);

CREATE TABLE monitoring_exclusions (
    level TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    check_key TEXT NOT NULL,
    PRIMARY KEY (level, target_id, check_key)
);

CREATE TABLE check_results (
    device_id BIGINT NOT NULL REFERENCES devices (id),
    check_key TEXT NOT NULL,
    at BIGINT NOT NULL,
    status TEXT NOT NULL,
    output TEXT NOT NULL DEFAULT '',
    value REAL
);
CREATE INDEX check_results_device ON check_results (device_id, check_key, at);
CREATE INDEX check_results_at ON check_results (at);

CREATE TABLE check_changes (
    device_id BIGINT NOT NULL REFERENCES devices (id),
    check_key TEXT NOT NULL,
    at BIGINT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX check_changes_device ON check_changes (device_id, check_key, at);
CREATE INDEX check_changes_at ON check_changes (at);

-- What a check is on the device page (its type and the policy it came
-- from), written with each state.
ALTER TABLE check_states ADD COLUMN check_type TEXT NOT NULL DEFAULT '';
ALTER TABLE check_states ADD COLUMN status TEXT NOT NULL DEFAULT 'pass';
ALTER TABLE check_states ADD COLUMN value REAL;

INSERT INTO monitoring_policies (name, checks, ticket_on, created_at, updated_at)
VALUES ('Standard', '[{"key":"offline","type":"offline","severity":"critical","fail_after":1,"recover_after":1,"interval_secs":60},{"key":"cpu","type":"metric","series":"cpu","window_secs":900,"levels":{"warning":90},"interval_secs":60},{"key":"memory","type":"metric","series":"mem","window_secs":900,"levels":{"warning":95},"interval_secs":60},{"key":"disk_free","type":"metric","series":"disk","levels":{"warning":90,"critical":95},"interval_secs":60},{"key":"antivirus","type":"antivirus","severity":"warning","interval_secs":3600},{"key":"firewall","type":"firewall","severity":"warning","interval_secs":3600},{"key":"disk_encryption","type":"disk_encryption","severity":"warning","interval_secs":3600}]', NULL, 0, 0);
INSERT INTO monitoring_policy_links (level, target_id, policy_id, position)
SELECT 'installation', 0, id, 0 FROM monitoring_policies WHERE name = 'Standard';
