-- Inbox rows are written only by the batch that writes their message, in the same
-- transaction, and messages are never deleted: the foreign key checked what cannot
-- happen, and made SQLite keep a statement journal for every batch's inbox insert.
-- SQLite cannot drop a constraint: the table is rebuilt without it.
CREATE TABLE inbox_new (
    user_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    msg_id  TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO inbox_new (user_id, seq, msg_id) SELECT user_id, seq, msg_id FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_new RENAME TO inbox;
CREATE INDEX inbox_msg_id ON inbox (msg_id);
