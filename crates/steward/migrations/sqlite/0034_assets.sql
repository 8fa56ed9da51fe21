-- Documented assets (issue 17): types an admin defines (their fields as a
-- JSON list), each client's assets of those types (the values as a JSON
-- object keyed by field), a configuration matched to a managed device,
-- relationships between any two documented things, and the dates that
-- expire, kept apart so one indexed list serves every client.
-- Never edit: add a file.
CREATE TABLE asset_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    -- JSON: [{"key", "label", "kind", "required", "options", "expires", "help"}]
    fields TEXT NOT NULL,
    -- The shipped "Configuration" type, matched to devices (one such type).
    configuration BOOLEAN NOT NULL DEFAULT FALSE,
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    type_id BIGINT NOT NULL REFERENCES asset_types (id),
    name TEXT NOT NULL,
    -- JSON object: field key -> value, as the type's kinds say.
    fields TEXT NOT NULL DEFAULT '{}',
    notes TEXT NOT NULL DEFAULT '',
    -- A configuration documents this managed device (at most one each).
    device_id BIGINT REFERENCES devices (id),
    archived_at BIGINT,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users (id),
    updated_at BIGINT NOT NULL
);
CREATE INDEX assets_client ON assets (client_id, type_id, name);
CREATE INDEX assets_type ON assets (type_id);
CREATE UNIQUE INDEX assets_device ON assets (device_id);

-- "This application runs on that server", kept once and shown both ways.
-- Ends are (kind, id): asset, device, contact, article, vault.
CREATE TABLE doc_relations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    from_kind TEXT NOT NULL,
    from_id BIGINT NOT NULL,
    to_kind TEXT NOT NULL,
    to_id BIGINT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    UNIQUE (from_kind, from_id, to_kind, to_id)
);
CREATE INDEX doc_relations_to ON doc_relations (to_kind, to_id);
CREATE INDEX doc_relations_client ON doc_relations (client_id);

-- Every date field marked "expires" of a live asset, one row each.
CREATE TABLE asset_expiries (
    asset_id BIGINT NOT NULL REFERENCES assets (id),
    field_key TEXT NOT NULL,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    -- YYYY-MM-DD
    expires_on TEXT NOT NULL,
    -- The warning (days ahead) last sent for this date, so each is sent once.
    warned_days BIGINT,
    PRIMARY KEY (asset_id, field_key)
);
CREATE INDEX asset_expiries_date ON asset_expiries (expires_on);
CREATE INDEX asset_expiries_client ON asset_expiries (client_id, expires_on);

-- The starter set of types (the first is the one configurations are of).
INSERT INTO asset_types (name, name_key, description, fields, configuration, created_at, updated_at) VALUES
    ('Configuration', 'configuration', 'A device or appliance: managed ones are matched to their device and show its live inventory; the rest (a switch, a printer) are documented by hand.', '[{"key":"kind","label":"Kind","kind":"select","required":false,"options":["Workstation","Laptop","Server","Virtual machine","Switch","Router","Firewall","Access point","Printer","NAS","UPS","Phone","Other"],"expires":false},{"key":"location","label":"Location","kind":"text","required":false,"expires":false,"help":"Building, room, rack"},{"key":"purpose","label":"Purpose","kind":"text","required":false,"expires":false},{"key":"owner","label":"Owner","kind":"contact","required":false,"expires":false},{"key":"manufacturer","label":"Manufacturer","kind":"text","required":false,"expires":false},{"key":"model","label":"Model","kind":"text","required":false,"expires":false},{"key":"serial_number","label":"Serial number","kind":"text","required":false,"expires":false},{"key":"ip_address","label":"IP address","kind":"ip","required":false,"expires":false},{"key":"mac_address","label":"MAC address","kind":"text","required":false,"expires":false},{"key":"admin_page","label":"Admin page","kind":"url","required":false,"expires":false},{"key":"admin_login","label":"Admin login","kind":"vault","required":false,"expires":false},{"key":"purchased","label":"Purchased","kind":"date","required":false,"expires":false},{"key":"warranty_ends","label":"Warranty ends","kind":"date","required":false,"expires":true}]', TRUE, 0, 0),
    ('Firewall', 'firewall', '', '[{"key":"manufacturer","label":"Manufacturer","kind":"text","required":false,"expires":false},{"key":"model","label":"Model","kind":"text","required":false,"expires":false},{"key":"serial_number","label":"Serial number","kind":"text","required":false,"expires":false},{"key":"firmware","label":"Firmware","kind":"text","required":false,"expires":false},{"key":"wan_address","label":"WAN address","kind":"ip","required":false,"expires":false},{"key":"lan_network","label":"LAN network","kind":"ip","required":false,"expires":false},{"key":"admin_page","label":"Admin page","kind":"url","required":false,"expires":false},{"key":"admin_login","label":"Admin login","kind":"vault","required":false,"expires":false},{"key":"device","label":"Device","kind":"device","required":false,"expires":false,"help":"The managed device, if it has an agent"},{"key":"support_ends","label":"Support ends","kind":"date","required":false,"expires":true}]', FALSE, 0, 0),
    ('Wi-Fi network', 'wi-fi network', '', '[{"key":"ssid","label":"SSID","kind":"text","required":true,"expires":false},{"key":"security","label":"Security","kind":"select","required":false,"options":["WPA3-Personal","WPA2/WPA3-Personal","WPA2-Personal","WPA2-Enterprise","WPA3-Enterprise","Open"],"expires":false},{"key":"band","label":"Band","kind":"select","required":false,"options":["2.4 GHz","5 GHz","6 GHz","Dual band","Tri band"],"expires":false},{"key":"vlan","label":"VLAN","kind":"number","required":false,"expires":false},{"key":"passphrase","label":"Passphrase","kind":"vault","required":false,"expires":false},{"key":"guest_network","label":"Guest network","kind":"select","required":false,"options":["Yes","No"],"expires":false},{"key":"served_by","label":"Served by","kind":"asset","required":false,"expires":false,"help":"The access point or controller"}]', FALSE, 0, 0),
    ('Line-of-business application', 'line-of-business application', '', '[{"key":"vendor","label":"Vendor","kind":"text","required":false,"expires":false},{"key":"version","label":"Version","kind":"text","required":false,"expires":false},{"key":"runs_on","label":"Runs on","kind":"device","required":false,"expires":false},{"key":"admin_login","label":"Admin login","kind":"vault","required":false,"expires":false},{"key":"support_phone","label":"Support phone","kind":"text","required":false,"expires":false},{"key":"support_page","label":"Support page","kind":"url","required":false,"expires":false},{"key":"support_email","label":"Support email","kind":"email","required":false,"expires":false},{"key":"licence_ends","label":"Licence ends","kind":"date","required":false,"expires":true}]', FALSE, 0, 0),
    ('Domain', 'domain', '', '[{"key":"domain_name","label":"Domain name","kind":"text","required":true,"expires":false},{"key":"registrar","label":"Registrar","kind":"text","required":false,"expires":false},{"key":"registrar_login","label":"Registrar login","kind":"vault","required":false,"expires":false},{"key":"dns_hosted_at","label":"DNS hosted at","kind":"text","required":false,"expires":false},{"key":"name_servers","label":"Name servers","kind":"multiline","required":false,"expires":false},{"key":"auto_renew","label":"Auto-renew","kind":"select","required":false,"options":["Yes","No"],"expires":false},{"key":"expires","label":"Expires","kind":"date","required":false,"expires":true}]', FALSE, 0, 0),
    ('TLS certificate', 'tls certificate', '', '[{"key":"common_name","label":"Common name","kind":"text","required":true,"expires":false},{"key":"other_names","label":"Other names","kind":"multiline","required":false,"expires":false},{"key":"issuer","label":"Issuer","kind":"text","required":false,"expires":false},{"key":"used_on","label":"Used on","kind":"text","required":false,"expires":false,"help":"Where it is installed"},{"key":"expires","label":"Expires","kind":"date","required":false,"expires":true}]', FALSE, 0, 0),
    ('ISP circuit', 'isp circuit', '', '[{"key":"provider","label":"Provider","kind":"text","required":true,"expires":false},{"key":"account_number","label":"Account number","kind":"text","required":false,"expires":false},{"key":"circuit_id","label":"Circuit ID","kind":"text","required":false,"expires":false},{"key":"type","label":"Type","kind":"select","required":false,"options":["Fibre","Cable","DSL","4G/5G","Leased line","Satellite","Other"],"expires":false},{"key":"speed","label":"Speed","kind":"text","required":false,"expires":false,"help":"e.g. 500/100 Mbit/s"},{"key":"public_address","label":"Public address","kind":"ip","required":false,"expires":false},{"key":"gateway","label":"Gateway","kind":"ip","required":false,"expires":false},{"key":"support_phone","label":"Support phone","kind":"text","required":false,"expires":false},{"key":"contract_ends","label":"Contract ends","kind":"date","required":false,"expires":true}]', FALSE, 0, 0),
    ('Microsoft 365 tenant', 'microsoft 365 tenant', '', '[{"key":"tenant_domain","label":"Tenant domain","kind":"text","required":true,"expires":false},{"key":"tenant_id","label":"Tenant ID","kind":"text","required":false,"expires":false},{"key":"global_admin","label":"Global admin","kind":"vault","required":false,"expires":false},{"key":"licences","label":"Licences","kind":"multiline","required":false,"expires":false},{"key":"renewal","label":"Renewal","kind":"date","required":false,"expires":true}]', FALSE, 0, 0),
    ('Software licence', 'software licence', '', '[{"key":"product","label":"Product","kind":"text","required":true,"expires":false},{"key":"licence_key","label":"Licence key","kind":"vault","required":false,"expires":false,"help":"Kept in the vault, never in the document"},{"key":"seats","label":"Seats","kind":"number","required":false,"expires":false},{"key":"assigned_to","label":"Assigned to","kind":"contact","required":false,"expires":false},{"key":"purchased","label":"Purchased","kind":"date","required":false,"expires":false},{"key":"expires","label":"Expires","kind":"date","required":false,"expires":true}]', FALSE, 0, 0);
