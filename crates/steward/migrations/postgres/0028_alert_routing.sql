-- Routing alerts' notifications (issue 15): the monitoring policy an alert's
-- check came from, and what each webhook takes beyond its events: only
-- some clients' alerts, only some policies', only from a severity up.
-- Never edit: add a file.
ALTER TABLE alerts ADD COLUMN policy_id BIGINT;
ALTER TABLE webhooks ADD COLUMN client_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE webhooks ADD COLUMN policy_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE webhooks ADD COLUMN min_severity TEXT NOT NULL DEFAULT 'warning';
