-- Follows and blocks: what members do to each other, keyed by their IDs.
-- A pair is its primary key, so following or blocking twice keeps one row
-- (and its first time). Lists are newest first and seek by (created_at,
-- other member), hence the indexes.

CREATE TABLE follows (
    follower   TEXT    NOT NULL REFERENCES accounts (id),
    followee   TEXT    NOT NULL REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (follower, followee),
    CHECK (follower <> followee)
) STRICT;

-- Whom a member follows, and who follows a member.
CREATE INDEX follows_by_follower ON follows (follower, created_at DESC, followee DESC);
CREATE INDEX follows_by_followee ON follows (followee, created_at DESC, follower DESC);

CREATE TABLE blocks (
    blocker    TEXT    NOT NULL REFERENCES accounts (id),
    blocked    TEXT    NOT NULL REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker, blocked),
    CHECK (blocker <> blocked)
) STRICT;

-- Whom a member blocks, newest first; and, for search and rooms' gate,
-- who blocks a member.
CREATE INDEX blocks_by_blocker ON blocks (blocker, created_at DESC, blocked DESC);
CREATE INDEX blocks_by_blocked ON blocks (blocked, blocker);
