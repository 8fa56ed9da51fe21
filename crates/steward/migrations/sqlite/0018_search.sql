-- The search index's outbox (issue 13): a row per changed record, written
-- in the same transaction as the change. Every node's index reads the
-- rows after its own cursor (kept in the index's commit), so a crash
-- between the commit and the index write loses nothing. Rows are pruned
-- after a day; `search_state.pruned_through` tells a node that slept
-- longer than that to rebuild its index instead.

CREATE TABLE search_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX search_outbox_created ON search_outbox (created_at);

CREATE TABLE search_state (
    id BIGINT PRIMARY KEY,
    pruned_through BIGINT NOT NULL
);
INSERT INTO search_state (id, pruned_through) VALUES (1, 0);
