package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/parley-audio/parley/internal/sqldb"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// durable is the durable data: room records and members.
type durable struct {
	rooms   *rooms.SQLStore
	members *members.SQLStore
	// roomsDB and membersDB are the databases under them (one and the
	// same on Postgres), for the tests that read their schemas.
	roomsDB, membersDB *sqldb.DB
	close              func() error
}

// openDurable chooses where durable data lives: one Postgres database,
// shared by every server process, when --database-url is set; otherwise two
// SQLite files in the data directory (rooms' parley.db and members.db),
// each with its single writer. This is the one place that chooses. Opening
// applies any migration the database lacks.
func openDurable(ctx context.Context, cfg serveConfig) (*durable, error) {
	var dbs []*sqldb.DB
	closeAll := func() error {
		var errs []error
		for _, db := range dbs {
			errs = append(errs, db.Close())
		}
		return errors.Join(errs...)
	}
	var roomsDB, membersDB *sqldb.DB
	if cfg.DatabaseURL != "" {
		db, err := sqldb.OpenPostgres(ctx, cfg.DatabaseURL, 0)
		if err != nil {
			return nil, err
		}
		dbs = append(dbs, db)
		roomsDB, membersDB = db, db
	} else {
		for _, p := range []struct {
			name string
			to   **sqldb.DB
		}{{"parley.db", &roomsDB}, {"members.db", &membersDB}} {
			db, err := sqldb.OpenSQLite(ctx, filepath.Join(cfg.DataDir, p.name))
			if err != nil {
				_ = closeAll()
				return nil, err
			}
			dbs = append(dbs, db)
			*p.to = db
		}
	}
	rs, err := rooms.NewSQLStore(ctx, roomsDB)
	if err != nil {
		_ = closeAll()
		return nil, err
	}
	ms, err := members.NewSQLStore(ctx, membersDB)
	if err != nil {
		_ = closeAll()
		return nil, err
	}
	return &durable{rooms: rs, members: ms, roomsDB: roomsDB, membersDB: membersDB, close: closeAll}, nil
}

// runMigrate is `parley migrate`: it applies the migrations of the
// configured database (the same settings as serve) and says where each
// store's schema stands, so that an operator can migrate before starting
// servers of a new version.
func runMigrate(args []string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig("parley migrate", args, nil, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "parley migrate:", err)
		return 2
	}
	ctx := context.Background()
	d, err := openDurable(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "parley migrate:", err)
		return 1
	}
	defer d.close()
	where := "SQLite in " + cfg.DataDir
	if cfg.DatabaseURL != "" {
		where = "Postgres"
	}
	for _, s := range []struct {
		name string
		v    func(context.Context) (int, error)
	}{{"rooms", d.rooms.SchemaVersion}, {"members", d.members.SchemaVersion}} {
		v, err := s.v(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "parley migrate:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s schema at version %d (%s)\n", s.name, v, where)
	}
	return 0
}
