-- Follows and blocks: the Postgres twin of
-- migrations/sqlite/0002_follows_blocks.sql, the same tables, columns and
-- indexes. Member IDs keep accounts' collation, so that they join and
-- reference accounts.id without a conflict of collations; keyset
-- pagination over (created_at, member) still agrees with Go and SQLite,
-- because every member ID is usr_ followed by [a-z2-7], which every
-- collation orders as bytes do.

CREATE TABLE follows (
    follower   TEXT   NOT NULL REFERENCES accounts (id),
    followee   TEXT   NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (follower, followee),
    CHECK (follower <> followee)
);

CREATE INDEX follows_by_follower ON follows (follower, created_at DESC, followee DESC);
CREATE INDEX follows_by_followee ON follows (followee, created_at DESC, follower DESC);

CREATE TABLE blocks (
    blocker    TEXT   NOT NULL REFERENCES accounts (id),
    blocked    TEXT   NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker, blocked),
    CHECK (blocker <> blocked)
);

CREATE INDEX blocks_by_blocker ON blocks (blocker, created_at DESC, blocked DESC);
CREATE INDEX blocks_by_blocked ON blocks (blocked, blocker);
