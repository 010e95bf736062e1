-- +goose Up
-- Marketing's durable state: staff keys, the audit log, the merchant audience, campaigns
-- and their fixed recipients. Times are Unix milliseconds (bigint), the same on both
-- dialects.

CREATE TABLE staff_keys (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('viewer', 'author', 'sender', 'admin')),
    hash       bytea NOT NULL UNIQUE, -- SHA-256 of the secret; the secret is never stored
    prefix     text NOT NULL,
    created_at bigint NOT NULL,
    created_by text NOT NULL,
    revoked_at bigint
);

CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         bigint NOT NULL,
    actor_id   text NOT NULL,
    actor_name text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    before     text,
    after      text,
    trace_id   text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_target ON audit_log (target, id);

-- tags is ",a,b," (sorted, each tag [a-z0-9_-]), so "has tag x" is LIKE '%,x,%' on both
-- dialects without a join.
CREATE TABLE merchants (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    city       text NOT NULL,
    category   text NOT NULL,
    tags       text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    deleted_at bigint
);
CREATE INDEX merchants_city ON merchants (city, id);
CREATE INDEX merchants_category ON merchants (category, id);

CREATE TABLE campaigns (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    spec         text NOT NULL, -- JSON of Spec
    state        text NOT NULL,
    pause_reason text NOT NULL DEFAULT '',
    send_at      bigint,
    created_by   text NOT NULL,
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    started_at   bigint,
    finished_at  bigint,
    fixed        smallint NOT NULL DEFAULT 0, -- recipients written
    cursor_pos   bigint NOT NULL DEFAULT 0,      -- every recipient up to here is handled
    n_targeted   bigint NOT NULL DEFAULT 0,
    n_sent       bigint NOT NULL DEFAULT 0,
    n_delivered  bigint NOT NULL DEFAULT 0,
    n_read       bigint NOT NULL DEFAULT 0,
    n_clicked    bigint NOT NULL DEFAULT 0,
    n_failed     bigint NOT NULL DEFAULT 0,
    n_skipped    bigint NOT NULL DEFAULT 0,
    rate_milli   bigint NOT NULL DEFAULT 0,      -- achieved messages/s × 1000
    lease_owner  text NOT NULL DEFAULT '',
    lease_until  bigint NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_state ON campaigns (state, id);

CREATE TABLE campaign_recipients (
    campaign_id  text NOT NULL,
    pos          bigint NOT NULL,
    merchant_id  text NOT NULL,
    status       smallint NOT NULL DEFAULT 0, -- 0 pending, 1 sent, 2 failed, 3 skipped
    msg_id       text NOT NULL DEFAULT '',
    inbox_seq    bigint NOT NULL DEFAULT 0,
    conv_seq     bigint NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT '',
    sent_at      bigint,
    delivered_at bigint,
    read_at      bigint,
    clicked_at   bigint,
    PRIMARY KEY (campaign_id, pos)
);
CREATE UNIQUE INDEX campaign_recipients_merchant ON campaign_recipients (campaign_id, merchant_id);
-- The receipts poller reads sent recipients not yet read.
CREATE INDEX campaign_recipients_unread ON campaign_recipients (campaign_id, pos)
    WHERE status = 1 AND read_at IS NULL;

CREATE TABLE campaign_progress (
    campaign_id text NOT NULL,
    at          bigint NOT NULL,
    sent        bigint NOT NULL,
    delivered   bigint NOT NULL,
    read_n      bigint NOT NULL,
    clicked     bigint NOT NULL,
    failed      bigint NOT NULL,
    PRIMARY KEY (campaign_id, at)
);

-- +goose Down
DROP TABLE campaign_progress;
DROP TABLE campaign_recipients;
DROP TABLE campaigns;
DROP TABLE merchants;
DROP TABLE audit_log;
DROP TABLE staff_keys;
