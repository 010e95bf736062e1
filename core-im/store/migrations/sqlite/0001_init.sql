-- Same model as the PostgreSQL schema. Times are Unix milliseconds. One
-- process writes through one connection, so counters need no row locks.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('merchant', 'customer', 'staff')),
    display_name  TEXT NOT NULL,
    password_hash BLOB NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE conversations (
    id       TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE user_seqs (
    user_id  TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    conv_id       TEXT NOT NULL,
    conv_seq      INTEGER NOT NULL,
    sender        TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    kind          INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    body          BLOB NOT NULL,
    sent_at       INTEGER NOT NULL,
    UNIQUE (conv_id, conv_seq)
) STRICT;

CREATE UNIQUE INDEX messages_sender_client_msg_id ON messages (sender, client_msg_id)
    WHERE client_msg_id <> '';

CREATE TABLE inbox (
    user_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    msg_id  TEXT NOT NULL REFERENCES messages (id),
    PRIMARY KEY (user_id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX inbox_msg_id ON inbox (msg_id);

CREATE TABLE delivery_acks (
    user_id   TEXT NOT NULL,
    device_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE read_marks (
    user_id TEXT NOT NULL,
    conv_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (user_id, conv_id)
) STRICT, WITHOUT ROWID;
