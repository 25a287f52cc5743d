package sqldb

import (
	"context"
	"fmt"
)

// StoreDB is one durable store's database, its schema brought up to date
// with the store's migrations. A store keeps it in place of a *DB: it has
// every method of DB, but Close closes the database only when the store
// opened it itself (OpenSQLiteStore); a DB given to Migrated stays the
// caller's to close.
type StoreDB struct {
	*DB
	owned bool
}

// Migrated applies m to db and returns it for a store. The caller keeps
// db and closes it after the store is done.
func Migrated(ctx context.Context, db *DB, m Migrations) (StoreDB, error) {
	if _, err := db.Migrate(ctx, m); err != nil {
		return StoreDB{}, err
	}
	return StoreDB{DB: db}, nil
}

// OpenSQLiteStore opens, or creates, an SQLite database of the store's own
// at path and applies m, closing the database again if that fails. Close
// closes it.
func OpenSQLiteStore(ctx context.Context, path string, m Migrations) (StoreDB, error) {
	db, err := OpenSQLite(ctx, path)
	if err != nil {
		return StoreDB{}, err
	}
	s, err := Migrated(ctx, db, m)
	if err != nil {
		_ = db.Close()
		return StoreDB{}, fmt.Errorf("open %s: %w", path, err)
	}
	s.owned = true
	return s, nil
}

// Close closes the database if the store opened it. It is safe to call
// more than once.
func (s StoreDB) Close() error {
	if s.owned {
		return s.DB.Close()
	}
	return nil
}
