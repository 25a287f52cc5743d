-- Members move out of rooms' database: accounts are the members package's
-- (its own tables, its own migrations), and rooms knows a member only by
-- their ID. The rooms table loses its foreign key to members, which SQLite
-- can only do by rebuilding it; the old members table, which held only the
-- development sign-in's display names, goes.

CREATE TABLE rooms_new (
    id          TEXT    PRIMARY KEY,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    -- NULL while the room is live. Once set it is never cleared.
    ended_at    INTEGER
) STRICT;

INSERT INTO rooms_new (id, title, description, created_by, created_at, ended_at)
    SELECT id, title, description, created_by, created_at, ended_at FROM rooms;

DROP TABLE rooms;
ALTER TABLE rooms_new RENAME TO rooms;
DROP TABLE members;

-- LiveRooms walks this index newest first and stops after one page. It is
-- partial, so ended rooms, which pile up forever, never slow the listing.
CREATE INDEX rooms_live ON rooms (created_at DESC, id DESC) WHERE ended_at IS NULL;
-- A member's rooms, for their data export and account deletion.
CREATE INDEX rooms_created_by ON rooms (created_by);
