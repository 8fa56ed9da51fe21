-- The device list's and device page's "now" figures (issue 18), kept as
-- columns so a page of 50 out of 100,000 devices reads them without
-- parsing inventories or scanning samples. Never edit: add a file.

-- From the latest inventory: every address (space-separated, for the
-- search), the signed-in users (comma-separated), the serial number and
-- the last boot (Unix seconds). `facts_at` is NULL for inventories stored
-- before this migration: the next report from that agent fills them in,
-- changed or not.
ALTER TABLE device_inventory ADD COLUMN addresses TEXT NOT NULL DEFAULT '';
ALTER TABLE device_inventory ADD COLUMN users TEXT NOT NULL DEFAULT '';
ALTER TABLE device_inventory ADD COLUMN serial TEXT NOT NULL DEFAULT '';
ALTER TABLE device_inventory ADD COLUMN boot_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE device_inventory ADD COLUMN facts_at BIGINT;

-- The newest sample of the CPU, memory and fullest disk per device, kept
-- by the metrics writer in the transaction that stores the samples.
CREATE TABLE metric_latest (
    device_id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    cpu DOUBLE PRECISION,
    mem DOUBLE PRECISION,
    disk DOUBLE PRECISION,
    disk_mount TEXT NOT NULL DEFAULT ''
);

-- Installed software by name, for "which devices have X" (the global
-- search). Names are shared: 100,000 devices have a few thousand names.
CREATE TABLE software_names (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL
);
CREATE UNIQUE INDEX software_names_name ON software_names (name);
CREATE TABLE device_software (
    device_id BIGINT NOT NULL REFERENCES devices (id),
    software_id BIGINT NOT NULL REFERENCES software_names (id),
    version TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (device_id, software_id)
);
CREATE INDEX device_software_software ON device_software (software_id, device_id);

-- A user's own settings of the pages (the device list's columns, its
-- saved views): small JSON values by key, only read and written for the
-- signed-in user.
CREATE TABLE user_prefs (
    user_id BIGINT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
