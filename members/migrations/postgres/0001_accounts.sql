-- Accounts, invitations and sign-in sessions.
--
-- The Postgres twin of migrations/sqlite/0001_accounts.sql: the same tables,
-- columns and indexes, so that one set of queries serves both. Times are
-- BIGINT Unix milliseconds, UTC. Secrets (invite codes, refresh tokens) are
-- stored only as their SHA-256, hex-encoded, so that a copy of these tables
-- holds nothing anyone can sign in or sign up with.

CREATE TABLE accounts (
    id            TEXT    PRIMARY KEY,
    -- Lowercase [a-z0-9_]{3,30}; the service folds case before it gets here,
    -- so a plain UNIQUE is a case-insensitive one.
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    headline      TEXT    NOT NULL DEFAULT '',
    bio           TEXT    NOT NULL DEFAULT '',
    avatar_url    TEXT    NOT NULL DEFAULT '',
    admin         BOOLEAN NOT NULL DEFAULT FALSE,
    status        TEXT    NOT NULL CHECK (status IN ('active', 'waitlisted', 'deleted')),
    password_hash TEXT    NOT NULL,
    invited_by    TEXT    REFERENCES accounts (id),
    created_at    BIGINT  NOT NULL
);

-- The waitlist, oldest first, one page at a time.
CREATE INDEX accounts_waitlist ON accounts (created_at, id) WHERE status = 'waitlisted';

-- One row, ever: whoever inserts it is the instance's first account and
-- becomes its admin. The primary key makes two racing first sign-ups
-- produce exactly one admin.
CREATE TABLE instance_bootstrap (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    claimed_at BIGINT  NOT NULL
);

CREATE TABLE invites (
    id         TEXT    PRIMARY KEY,
    -- NULL for an invite spent directly on someone from the waitlist,
    -- which never had a code.
    code_hash  TEXT    UNIQUE,
    created_by TEXT    NOT NULL REFERENCES accounts (id),
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_by    TEXT    REFERENCES accounts (id),
    used_at    BIGINT,
    revoked_at BIGINT
);

-- A member's invites, newest first; also what the quota counts.
CREATE INDEX invites_created_by ON invites (created_by, created_at DESC, id DESC);
CREATE INDEX invites_used_by ON invites (used_by) WHERE used_by IS NOT NULL;

CREATE TABLE auth_sessions (
    id         TEXT    PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    created_at BIGINT  NOT NULL,
    -- When the current refresh token stops working; each rotation moves it.
    expires_at BIGINT  NOT NULL,
    revoked_at BIGINT
);

CREATE INDEX auth_sessions_account ON auth_sessions (account_id);
-- The revocation cache reloads the recent revocations by this index.
CREATE INDEX auth_sessions_revoked ON auth_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Every refresh token a session was ever given. Rotation marks the old one
-- used; presenting a used one again is how a stolen token is noticed.
CREATE TABLE refresh_tokens (
    token_hash TEXT    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES auth_sessions (id),
    created_at BIGINT  NOT NULL,
    used_at    BIGINT
);

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
