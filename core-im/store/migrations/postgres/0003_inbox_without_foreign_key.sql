-- Inbox rows are written only by the batch that writes their message, in the same
-- transaction, and messages are never deleted: the foreign key checked what cannot
-- happen, at the price of a trigger and an index probe per inbox row (a fifth of a
-- batch's cost, BENCHMARKS.md section 8).
ALTER TABLE inbox DROP CONSTRAINT IF EXISTS inbox_msg_id_fkey;
