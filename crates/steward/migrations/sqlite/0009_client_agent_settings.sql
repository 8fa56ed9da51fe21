-- Agent settings inherited down the tenancy (issue 4): a client sets the
-- heartbeat and metrics periods of all its agents, a site overrides the
-- client, and NULL at both follows the server's configuration.
ALTER TABLE clients ADD COLUMN agent_heartbeat_secs INTEGER;
ALTER TABLE clients ADD COLUMN agent_metrics_secs INTEGER;
ALTER TABLE sites ADD COLUMN agent_metrics_secs INTEGER;
