-- The dashboard's figures (issue 15): unresolved alerts counted per client,
-- check type and severity, kept in the transaction of each alert's change
-- (`monitoring::alerts::store`) instead of counted on every load; and the
-- indexes its lists read (alerts failing longest, devices offline).
-- Never edit: add a file.
CREATE TABLE alert_counts (
    client_id BIGINT NOT NULL,
    check_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (client_id, check_type, severity)
);
INSERT INTO alert_counts (client_id, check_type, severity, n)
SELECT client_id, check_type, severity, COUNT(*) FROM alerts WHERE resolved_at IS NULL GROUP BY client_id, check_type, severity;

CREATE INDEX alerts_unresolved_opened ON alerts (opened_at) WHERE resolved_at IS NULL;
CREATE INDEX devices_offline ON devices (client_id) WHERE online = FALSE AND revoked_at IS NULL;
