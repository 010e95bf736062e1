-- Accounts. The password hash is computed by the caller.
CREATE TABLE users (
    id            text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('merchant', 'customer', 'staff')),
    display_name  text NOT NULL,
    password_hash bytea NOT NULL,
    created_at    timestamptz NOT NULL
);

-- The last sequence assigned per conversation and per inbox. A batch raises
-- them with one upsert each, locking the rows in id order, conversations
-- before inboxes; the row lock held until commit is what keeps sequences
-- gap-free and ordered when several processes write.
CREATE TABLE conversations (
    id       text PRIMARY KEY,
    last_seq bigint NOT NULL
);

CREATE TABLE user_seqs (
    user_id  text PRIMARY KEY,
    last_seq bigint NOT NULL
);

CREATE TABLE messages (
    id            uuid PRIMARY KEY,
    conv_id       text NOT NULL,
    conv_seq      bigint NOT NULL,
    sender        text NOT NULL,
    recipient     text NOT NULL,
    client_msg_id text NOT NULL,
    kind          integer NOT NULL,
    content_type  text NOT NULL,
    body          bytea NOT NULL,
    sent_at       timestamptz NOT NULL,
    UNIQUE (conv_id, conv_seq)
);

-- A sender's retry never creates a second message, whichever process gets it.
CREATE UNIQUE INDEX messages_sender_client_msg_id ON messages (sender, client_msg_id)
    WHERE client_msg_id <> '';

CREATE TABLE inbox (
    user_id text NOT NULL,
    seq     bigint NOT NULL,
    msg_id  uuid NOT NULL REFERENCES messages (id),
    PRIMARY KEY (user_id, seq)
);

-- Answering a retry returns the inbox entries of the stored message.
CREATE INDEX inbox_msg_id ON inbox (msg_id);

CREATE TABLE delivery_acks (
    user_id   text NOT NULL,
    device_id text NOT NULL,
    seq       bigint NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

CREATE TABLE read_marks (
    user_id text NOT NULL,
    conv_id text NOT NULL,
    seq     bigint NOT NULL,
    PRIMARY KEY (user_id, conv_id)
);
