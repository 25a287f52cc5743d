-- Who may enter a room: the Postgres twin of
-- migrations/sqlite/0003_room_access.sql. IDs compare byte by byte
-- (COLLATE "C"), as rooms' do, for keyset pagination that agrees with Go.

ALTER TABLE rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'open'
    CHECK (visibility IN ('open', 'social', 'closed'));

CREATE TABLE room_invitees (
    room_id    TEXT   COLLATE "C" NOT NULL REFERENCES rooms (id),
    member_id  TEXT   COLLATE "C" NOT NULL,
    invited_by TEXT   COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, member_id)
);

CREATE INDEX room_invitees_by_room ON room_invitees (room_id, created_at DESC, member_id DESC);
CREATE INDEX room_invitees_by_member ON room_invitees (member_id, created_at DESC, room_id DESC);
