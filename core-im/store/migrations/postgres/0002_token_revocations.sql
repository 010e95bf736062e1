-- Revoked login tokens. jti '' revokes every token of the user issued before at (Unix
-- ms); any other jti revokes that one token, and at is its expiry, after which the row is
-- purged.
CREATE TABLE token_revocations (
    user_id TEXT   NOT NULL,
    jti     TEXT   NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (user_id, jti)
);
