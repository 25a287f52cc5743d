-- Account deletion: the Postgres twin of
-- migrations/sqlite/0003_account_deletion.sql, the same columns and
-- indexes. A deleted account keeps its row as a tombstone of its ID, with
-- no personal data: deleted_at is when it was deleted, erased_at when its
-- data was last erased for good (see members/deletion.go).

ALTER TABLE accounts ADD COLUMN deleted_at BIGINT;
ALTER TABLE accounts ADD COLUMN erased_at BIGINT;

CREATE INDEX accounts_deleted ON accounts (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX accounts_erasure_pending ON accounts (deleted_at, id) WHERE deleted_at IS NOT NULL AND erased_at IS NULL;
