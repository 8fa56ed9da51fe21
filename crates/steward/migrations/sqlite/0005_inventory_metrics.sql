-- Inventory with its history of changes, and metrics with rollups (issue 4).

-- The latest inventory of each device (cleaned JSON) and its hash.
CREATE TABLE device_inventory (
    device_id BIGINT PRIMARY KEY REFERENCES devices (id),
    hash TEXT NOT NULL,
    collected_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL
);

-- One row per report that changed something: the list of changes as JSON.
CREATE TABLE device_inventory_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    at BIGINT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX device_inventory_changes_device ON device_inventory_changes (device_id, at);

-- Raw samples: one value of one series of one device at one moment (µs).
-- High volume and pruned by age, so no foreign key (devices are revoked,
-- never deleted). The key makes a resent sample a no-op.
CREATE TABLE metric_samples (
    device_id BIGINT NOT NULL,
    series TEXT NOT NULL,
    at BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (device_id, series, at)
) WITHOUT ROWID;
CREATE INDEX metric_samples_at ON metric_samples (at);

-- Rollups per resolution (300 s, 3600 s): min, max, sum and count, so that
-- late samples merge in and the average stays exact.
CREATE TABLE metric_rollups (
    device_id BIGINT NOT NULL,
    resolution INTEGER NOT NULL,
    series TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    vmin DOUBLE PRECISION NOT NULL,
    vmax DOUBLE PRECISION NOT NULL,
    vsum DOUBLE PRECISION NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (device_id, resolution, series, bucket)
) WITHOUT ROWID;
CREATE INDEX metric_rollups_bucket ON metric_rollups (resolution, bucket);
