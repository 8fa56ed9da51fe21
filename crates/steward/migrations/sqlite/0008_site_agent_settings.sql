-- Agent settings per site (issue 4): a site's heartbeat period overrides
-- the server's `agent_heartbeat_secs`; NULL follows the server.
ALTER TABLE sites ADD COLUMN agent_heartbeat_secs INTEGER;
