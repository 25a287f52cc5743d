-- What happens in and around rooms, kept for good: scheduled rooms
-- (events) with their co-hosts and RSVPs, who was in each room and who
-- spoke, peak listeners, in-room chat, the moderation log and reports.
--
-- Every table that concerns a member holds their ID (no foreign key: the
-- members are another store's, in another database on SQLite), with an
-- index that starts with it, so that a member's data export and account
-- deletion find their rows without a scan.

-- A room's co-hosts (space-separated member IDs; set when an event starts
-- the room, never changed), its chat switch and the counter that numbers
-- its chat messages, and the most listeners it had at once.
ALTER TABLE rooms ADD COLUMN cohosts TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN chat_off INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN chat_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN peak_listeners INTEGER NOT NULL DEFAULT 0;

CREATE TABLE events (
    id           TEXT    PRIMARY KEY,
    host_id      TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    starts_at    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    -- Set once, by the host; a cancelled event never starts.
    cancelled_at INTEGER,
    -- Set once, when the host or a co-host starts it: the live room.
    room_id      TEXT    REFERENCES rooms (id),
    started_at   INTEGER,
    started_by   TEXT
) STRICT;

-- The upcoming list walks this index in start order; events that started
-- or were cancelled leave it.
CREATE INDEX events_upcoming ON events (starts_at, id) WHERE cancelled_at IS NULL AND room_id IS NULL;
CREATE INDEX events_host ON events (host_id, created_at, id);
CREATE UNIQUE INDEX events_room ON events (room_id) WHERE room_id IS NOT NULL;

CREATE TABLE event_cohosts (
    event_id TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id  TEXT    NOT NULL,
    -- The order the host listed them in.
    position INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id)
) STRICT;
CREATE INDEX event_cohosts_user ON event_cohosts (user_id);

CREATE TABLE event_rsvps (
    event_id   TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id)
) STRICT;
CREATE INDEX event_rsvps_user ON event_rsvps (user_id, created_at, event_id);

-- Everyone who was ever in a room: when they first joined, and when they
-- first went on stage (NULL if they never did).
CREATE TABLE room_participants (
    room_id     TEXT    NOT NULL REFERENCES rooms (id),
    user_id     TEXT    NOT NULL,
    joined_at   INTEGER NOT NULL,
    on_stage_at INTEGER,
    PRIMARY KEY (room_id, user_id)
) STRICT;
CREATE INDEX room_participants_user ON room_participants (user_id, joined_at, room_id);

CREATE TABLE chat_messages (
    id         TEXT    PRIMARY KEY,
    room_id    TEXT    NOT NULL REFERENCES rooms (id),
    -- The room's order: 1, 2, 3... from rooms.chat_seq.
    seq        INTEGER NOT NULL,
    -- NULL once the author's account is deleted and their messages kept.
    author_id  TEXT,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    -- A deleted message keeps its place and loses its body.
    deleted_at INTEGER,
    deleted_by TEXT,
    UNIQUE (room_id, seq)
) STRICT;
CREATE INDEX chat_messages_author ON chat_messages (author_id, created_at, id);

CREATE TABLE moderation_log (
    id         TEXT    PRIMARY KEY,
    room_id    TEXT    NOT NULL REFERENCES rooms (id),
    actor_id   TEXT    NOT NULL,
    -- NULL for an action on the whole room (mute_all, chat off).
    target_id  TEXT,
    action     TEXT    NOT NULL,
    -- What else the action names (a chat message's ID).
    detail     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX moderation_log_room ON moderation_log (room_id, created_at, id);
CREATE INDEX moderation_log_target ON moderation_log (target_id, created_at, id);
CREATE INDEX moderation_log_actor ON moderation_log (actor_id);

CREATE TABLE reports (
    id          TEXT    PRIMARY KEY,
    reporter_id TEXT    NOT NULL,
    -- What is reported: a member, a room, or a member in a room.
    member_id   TEXT,
    room_id     TEXT    REFERENCES rooms (id),
    reason      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    CHECK (member_id IS NOT NULL OR room_id IS NOT NULL)
) STRICT;
CREATE INDEX reports_created ON reports (created_at, id);
CREATE INDEX reports_reporter ON reports (reporter_id, created_at, id);
CREATE INDEX reports_member ON reports (member_id);
