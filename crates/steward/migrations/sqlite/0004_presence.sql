-- Online/offline transitions of devices, kept as history (issue 4).

CREATE TABLE device_presence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    online BOOLEAN NOT NULL,
    at BIGINT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX device_presence_device ON device_presence (device_id, at);
