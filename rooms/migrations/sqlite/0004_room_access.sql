-- Who may enter a room: its visibility, and the members invited into it
-- (the way in to a closed room). Rooms from before this version were open
-- to everyone, and stay so.

ALTER TABLE rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'open'
    CHECK (visibility IN ('open', 'social', 'closed'));

CREATE TABLE room_invitees (
    room_id    TEXT    NOT NULL REFERENCES rooms (id),
    member_id  TEXT    NOT NULL,
    invited_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, member_id)
) STRICT;

-- A room's invitees, newest first; and, for a member's data export, the
-- rooms they were invited to.
CREATE INDEX room_invitees_by_room ON room_invitees (room_id, created_at DESC, member_id DESC);
CREATE INDEX room_invitees_by_member ON room_invitees (member_id, created_at DESC, room_id DESC);
