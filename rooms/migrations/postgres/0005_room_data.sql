-- Events, who was in each room, chat, the moderation log and reports: the
-- Postgres twin of migrations/sqlite/0003_room_data.sql (read it for what
-- each table and column is). IDs compare byte by byte (COLLATE "C"), as in
-- Go, so that keyset pages agree with SQLite's.

ALTER TABLE rooms ADD COLUMN cohosts TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN chat_off BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN chat_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN peak_listeners BIGINT NOT NULL DEFAULT 0;

CREATE TABLE events (
    id           TEXT   COLLATE "C" PRIMARY KEY,
    host_id      TEXT   COLLATE "C" NOT NULL,
    title        TEXT   NOT NULL,
    description  TEXT   NOT NULL,
    starts_at    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    cancelled_at BIGINT,
    room_id      TEXT   COLLATE "C" REFERENCES rooms (id),
    started_at   BIGINT,
    started_by   TEXT   COLLATE "C"
);
CREATE INDEX events_upcoming ON events (starts_at, id) WHERE cancelled_at IS NULL AND room_id IS NULL;
CREATE INDEX events_host ON events (host_id, created_at, id);
CREATE UNIQUE INDEX events_room ON events (room_id) WHERE room_id IS NOT NULL;

CREATE TABLE event_cohosts (
    event_id TEXT   COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id  TEXT   COLLATE "C" NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_cohosts_user ON event_cohosts (user_id);

CREATE TABLE event_rsvps (
    event_id   TEXT   COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    TEXT   COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_rsvps_user ON event_rsvps (user_id, created_at, event_id);

CREATE TABLE room_participants (
    room_id     TEXT   COLLATE "C" NOT NULL REFERENCES rooms (id),
    user_id     TEXT   COLLATE "C" NOT NULL,
    joined_at   BIGINT NOT NULL,
    on_stage_at BIGINT,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_participants_user ON room_participants (user_id, joined_at, room_id);

CREATE TABLE chat_messages (
    id         TEXT   COLLATE "C" PRIMARY KEY,
    room_id    TEXT   COLLATE "C" NOT NULL REFERENCES rooms (id),
    seq        BIGINT NOT NULL,
    author_id  TEXT   COLLATE "C",
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_by TEXT   COLLATE "C",
    UNIQUE (room_id, seq)
);
CREATE INDEX chat_messages_author ON chat_messages (author_id, created_at, id);

CREATE TABLE moderation_log (
    id         TEXT   COLLATE "C" PRIMARY KEY,
    room_id    TEXT   COLLATE "C" NOT NULL REFERENCES rooms (id),
    actor_id   TEXT   COLLATE "C" NOT NULL,
    target_id  TEXT   COLLATE "C",
    action     TEXT   NOT NULL,
    detail     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX moderation_log_room ON moderation_log (room_id, created_at, id);
CREATE INDEX moderation_log_target ON moderation_log (target_id, created_at, id);
CREATE INDEX moderation_log_actor ON moderation_log (actor_id);

CREATE TABLE reports (
    id          TEXT   COLLATE "C" PRIMARY KEY,
    reporter_id TEXT   COLLATE "C" NOT NULL,
    member_id   TEXT   COLLATE "C",
    room_id     TEXT   COLLATE "C" REFERENCES rooms (id),
    reason      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    CHECK (member_id IS NOT NULL OR room_id IS NOT NULL)
);
CREATE INDEX reports_created ON reports (created_at, id);
CREATE INDEX reports_reporter ON reports (reporter_id, created_at, id);
CREATE INDEX reports_member ON reports (member_id);
