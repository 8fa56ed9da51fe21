-- Billing's reads at scale (bench/RESULTS.md, the billing benchmark): a
-- client's billable time that no invoice holds yet, found without reading
-- what was billed (a partial index: it shrinks as time is billed), and the
-- invoice lines of a contract line (reconciliation's "billed on the last
-- invoice"). Never edit: add a file.
CREATE INDEX time_entries_unbilled ON time_entries (client_id, started_at) WHERE invoice_line_id IS NULL;
CREATE INDEX invoice_lines_contract_line ON invoice_lines (contract_line_id);
