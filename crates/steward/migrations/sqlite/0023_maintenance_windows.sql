-- Maintenance windows (issue 15, first used by issue 18's reboot): at a
-- client (site_id and device_id NULL), a site or a device; a local start
-- in the window's own time zone, a length, a repeat. Never edit: add a file.
CREATE TABLE maintenance_windows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    site_id BIGINT REFERENCES sites (id),
    device_id BIGINT REFERENCES devices (id),
    name TEXT NOT NULL,
    starts_local TEXT NOT NULL,
    timezone TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    repeat TEXT NOT NULL,
    until_date TEXT,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX maintenance_windows_client ON maintenance_windows (client_id);
