-- The audit chain is keyed (issue 12): entries from keyed_from on are
-- HMAC-SHA256 under a key derived from the master key, which is not in the
-- database. A fresh installation keys its first entry; an existing chain
-- keys from its next entry on (set at that entry's write), and its older
-- entries keep verifying as plain SHA-256.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT;
UPDATE audit_head SET keyed_from = 1 WHERE seq = 0;
-- Recovery codes were unsalted SHA-256 of 45 bits: guessable offline from a
-- copy of the database. New codes are 80 bits under a keyed hash; the old
-- ones are dropped (a user who needs one now asks an administrator for
-- `steward admin reset-mfa`, and makes new codes when they set MFA up again).
DELETE FROM recovery_codes;
