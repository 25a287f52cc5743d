-- Account deletion. A deleted account keeps its row as a tombstone of its
-- ID (rooms, invites and the moderation log name members by ID), with no
-- personal data: deleted_at is when it was deleted, and from then on it
-- cannot sign in and its tokens are refused; erased_at is when its data
-- was last erased for good (see members/deletion.go). An account deleted
-- but not yet finally erased is pending, and the server finishes it.

ALTER TABLE accounts ADD COLUMN deleted_at INTEGER;
ALTER TABLE accounts ADD COLUMN erased_at INTEGER;

-- The revocation cache reads the recent deletions by this index, and the
-- server finds the erasures still to finish by the next.
CREATE INDEX accounts_deleted ON accounts (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX accounts_erasure_pending ON accounts (deleted_at, id) WHERE deleted_at IS NOT NULL AND erased_at IS NULL;
