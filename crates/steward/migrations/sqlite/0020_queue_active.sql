-- The queue's default view, every ticket still being worked on, as one
-- indexed value (issue 13's queue benchmark). `status_kind IN (four kinds)
-- AND merged_into IS NULL` cannot be read in `updated_at` order from any
-- index, so the first page sorted every active ticket and the total looked
-- up each one: 630 ms with 430,000 active tickets. `active` is computed by
-- the engine (never written by the code), so it cannot drift from the
-- status. Never edit: add a file.
ALTER TABLE tickets ADD COLUMN active INTEGER GENERATED ALWAYS AS (status_kind IN ('new', 'open', 'waiting', 'scheduled') AND merged_into IS NULL) VIRTUAL;
CREATE INDEX tickets_active_updated ON tickets (active, updated_at);
CREATE INDEX tickets_active_priority ON tickets (active, priority_id, updated_at);
CREATE INDEX tickets_active_due ON tickets (active, sla_due_at);
CREATE INDEX tickets_active_number ON tickets (active, number);
CREATE INDEX tickets_client_active ON tickets (client_id, active, updated_at);
CREATE INDEX tickets_assignee_active ON tickets (assignee_id, active, updated_at);
CREATE INDEX tickets_board_active ON tickets (board_id, active, updated_at);

-- A queue of one kind for one client, assignee or board ("waiting, this
-- client") reads in `updated_at` order too: these replaced indexes ended
-- in `id`, so the planner walked every ticket of that kind in time order
-- instead (50 ms for one client's waiting tickets among 140,000).
DROP INDEX tickets_client;
CREATE INDEX tickets_client ON tickets (client_id, status_kind, updated_at);
DROP INDEX tickets_assignee;
CREATE INDEX tickets_assignee ON tickets (assignee_id, status_kind, updated_at);
DROP INDEX tickets_board;
CREATE INDEX tickets_board ON tickets (board_id, status_kind, updated_at);
