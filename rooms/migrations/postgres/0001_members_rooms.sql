-- Members and the rooms they create: the Postgres twin of
-- migrations/sqlite/0001_members_rooms.sql. Each version has the same
-- tables, columns and indexes on both engines, so that one set of queries
-- serves both.
--
-- Times are BIGINT Unix milliseconds, UTC. IDs are compared byte by byte,
-- as Go compares strings (COLLATE "C"), so that keyset pagination over
-- (created_at, id) agrees with the other engine and with Go.

CREATE TABLE members (
    id           TEXT   COLLATE "C" PRIMARY KEY,
    display_name TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE rooms (
    id          TEXT   COLLATE "C" PRIMARY KEY,
    title       TEXT   NOT NULL,
    description TEXT   NOT NULL,
    created_by  TEXT   COLLATE "C" NOT NULL REFERENCES members (id),
    created_at  BIGINT NOT NULL,
    -- NULL while the room is live. Once set it is never cleared.
    ended_at    BIGINT
);

CREATE INDEX rooms_live ON rooms (created_at DESC, id DESC) WHERE ended_at IS NULL;
CREATE INDEX rooms_created_by ON rooms (created_by);
