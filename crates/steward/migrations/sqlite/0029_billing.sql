-- Contracts and billing (issue 16). Money, rates and quantities are
-- decimal strings (exact on both engines; added up in Rust with
-- rust_decimal); contract and invoice days are ISO dates ('2026-01-31'),
-- calendar days rather than instants. Never edit: add a file.

-- What a client is billed in, and its tax rate (percent) unless a
-- contract or a line says otherwise.
ALTER TABLE clients ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
ALTER TABLE clients ADD COLUMN tax_rate TEXT NOT NULL DEFAULT '0';
ALTER TABLE clients ADD COLUMN billing_address TEXT NOT NULL DEFAULT '';
-- A contact counted by per-user lines.
ALTER TABLE contacts ADD COLUMN covered BOOLEAN NOT NULL DEFAULT FALSE;
-- workstation, server or network; NULL: derived from the device's system.
ALTER TABLE devices ADD COLUMN device_class TEXT;
-- The installation's hourly rate per work type (a contract may override it).
ALTER TABLE work_types ADD COLUMN rate TEXT NOT NULL DEFAULT '0';

CREATE TABLE contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    name TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    billing_cycle TEXT NOT NULL,
    billed TEXT NOT NULL,
    currency TEXT NOT NULL,
    sla_policy_id BIGINT REFERENCES sla_policies (id),
    -- Devices count when seen within this many days.
    seen_within_days BIGINT NOT NULL,
    -- NULL: the client's rate.
    tax_rate TEXT,
    tax_inclusive BOOLEAN NOT NULL DEFAULT FALSE,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contracts_client ON contracts (client_id);

CREATE TABLE contract_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contract_id BIGINT NOT NULL REFERENCES contracts (id),
    position BIGINT NOT NULL,
    -- per_device, per_user, flat, block_hours, time_and_materials
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    quantity TEXT NOT NULL,
    follow_count BOOLEAN NOT NULL DEFAULT FALSE,
    device_class TEXT,
    -- block_hours: the hours each cycle buys, the rate past them, and
    -- whether unused hours carry over to the next cycle (once).
    hours TEXT,
    overage_rate TEXT,
    rollover BOOLEAN NOT NULL DEFAULT FALSE,
    -- NULL: the contract's rate.
    tax_rate TEXT,
    removed BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX contract_lines_contract ON contract_lines (contract_id, position);

-- Work types a contract includes (no charge) or prices its own way.
CREATE TABLE contract_rates (
    contract_id BIGINT NOT NULL REFERENCES contracts (id),
    work_type_id BIGINT NOT NULL REFERENCES work_types (id),
    included BOOLEAN NOT NULL DEFAULT FALSE,
    rate TEXT,
    PRIMARY KEY (contract_id, work_type_id)
);

-- The count behind each counted line, once a day, with the ids counted.
CREATE TABLE billing_counts (
    contract_line_id BIGINT NOT NULL REFERENCES contract_lines (id),
    day TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    ids TEXT NOT NULL,
    PRIMARY KEY (contract_line_id, day)
);

CREATE TABLE invoice_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    -- running, done, failed
    state TEXT NOT NULL,
    clients_total BIGINT NOT NULL DEFAULT 0,
    clients_done BIGINT NOT NULL DEFAULT 0,
    invoices_made BIGINT NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX invoice_runs_state ON invoice_runs (state);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    contract_id BIGINT REFERENCES contracts (id),
    run_id BIGINT REFERENCES invoice_runs (id),
    -- invoice or credit_note
    kind TEXT NOT NULL,
    credited_invoice_id BIGINT REFERENCES invoices (id),
    -- draft or final
    state TEXT NOT NULL,
    number TEXT,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    currency TEXT NOT NULL,
    tax_inclusive BOOLEAN NOT NULL,
    subtotal TEXT NOT NULL,
    tax TEXT NOT NULL,
    total TEXT NOT NULL,
    issued_on TEXT,
    due_on TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finalized_at BIGINT
);
CREATE UNIQUE INDEX invoices_number ON invoices (number);
-- A run never bills a contract's period twice.
CREATE UNIQUE INDEX invoices_contract_period ON invoices (client_id, contract_id, period_start) WHERE kind = 'invoice';
CREATE INDEX invoices_client ON invoices (client_id, id);
CREATE INDEX invoices_run ON invoices (run_id);

CREATE TABLE invoice_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    position BIGINT NOT NULL,
    contract_line_id BIGINT REFERENCES contract_lines (id),
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    amount TEXT NOT NULL,
    tax_rate TEXT NOT NULL,
    -- Where it came from (JSON): the count and its day, the ids counted,
    -- the time entries, the hours drawn from a block.
    source TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, position);

-- The invoice line a billable time entry was billed on (once).
ALTER TABLE time_entries ADD COLUMN invoice_line_id BIGINT REFERENCES invoice_lines (id);
CREATE INDEX time_entries_invoice_line ON time_entries (invoice_line_id);

-- The last number handed out per kind and year, taken in the finalizing
-- transaction: numbers have no gaps and no repeats.
CREATE TABLE invoice_counters (
    kind TEXT NOT NULL,
    year BIGINT NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (kind, year)
);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id),
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    paid_on TEXT NOT NULL,
    amount TEXT NOT NULL,
    method TEXT NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX payments_invoice ON payments (invoice_id);
CREATE INDEX payments_client ON payments (client_id);

-- How invoices are numbered and what they say about the MSP.
CREATE TABLE billing_settings (
    id BIGINT PRIMARY KEY,
    invoice_format TEXT NOT NULL,
    credit_format TEXT NOT NULL,
    payment_terms_days BIGINT NOT NULL,
    company_name TEXT NOT NULL,
    company_address TEXT NOT NULL
);
INSERT INTO billing_settings (id, invoice_format, credit_format, payment_terms_days, company_name, company_address)
    VALUES (1, 'INV-{year}-{number:06}', 'CN-{year}-{number:06}', 30, '', '');
