-- Jobs run once per occurrence across nodes (issue 11): a node claims an
-- occurrence by moving next_due_us forward while nobody holds the lease,
-- and holds the lease (renewing it) while the job runs.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    next_due_us BIGINT NOT NULL,
    holder TEXT,
    lease_until_us BIGINT NOT NULL DEFAULT 0
);
