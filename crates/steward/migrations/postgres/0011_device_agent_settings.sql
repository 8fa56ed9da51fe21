-- A device may set its own agent settings (issue 4), above its site's and
-- client's: a critical server heartbeating every 10 s in a fleet on 60 s.
-- NULL follows the site, else the client, else the server.
ALTER TABLE devices ADD COLUMN agent_heartbeat_secs BIGINT;
ALTER TABLE devices ADD COLUMN agent_metrics_secs BIGINT;
