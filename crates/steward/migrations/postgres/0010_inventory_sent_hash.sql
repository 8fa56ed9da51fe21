-- The hash of the inventory exactly as the agent sent it (before cleaning),
-- told back to the agent in `Welcome`: an agent whose inventory has not
-- changed need not send it again when it reconnects (issue 4).
ALTER TABLE device_inventory ADD COLUMN sent_hash TEXT;
