-- Members and the rooms they create.
--
-- Times are INTEGER Unix milliseconds, UTC: they sort numerically, compare
-- exactly, and keep the millisecond precision the domain uses. STRICT makes
-- SQLite refuse a value of the wrong type instead of storing it anyway.

CREATE TABLE members (
    id           TEXT    PRIMARY KEY,
    display_name TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE rooms (
    id          TEXT    PRIMARY KEY,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    created_by  TEXT    NOT NULL REFERENCES members (id),
    created_at  INTEGER NOT NULL,
    -- NULL while the room is live. Once set it is never cleared.
    ended_at    INTEGER
) STRICT;

-- LiveRooms walks this index newest first and stops after one page. It is
-- partial, so ended rooms, which pile up forever, never slow the listing.
CREATE INDEX rooms_live ON rooms (created_at DESC, id DESC) WHERE ended_at IS NULL;

-- With foreign_keys on, changing or deleting a member must find their rooms;
-- without this index that is a scan of every room.
CREATE INDEX rooms_created_by ON rooms (created_by);
