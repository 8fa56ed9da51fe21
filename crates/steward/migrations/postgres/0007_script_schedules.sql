-- Recurring script runs (issue 4): how often a run repeats, and what it
-- targets, so that each occurrence finds the devices there are then.

-- hourly, daily or weekly; NULL for a run that happens once.
ALTER TABLE script_runs ADD COLUMN repeat_every TEXT;
-- JSON: {"device_ids": [...]} or {"client_id": N, "site_id": N|null}.
ALTER TABLE script_runs ADD COLUMN target TEXT NOT NULL DEFAULT '{}';
