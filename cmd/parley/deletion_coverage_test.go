package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/internal/sqldb"
	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// tablesWithoutMembers are the tables that hold no member ID, each with
// why; every other table must be accounted for by an eraser.
var tablesWithoutMembers = map[string]string{
	"schema_migrations":         "rooms' schema versions",
	"members_schema_migrations": "members' schema versions",
	"refresh_tokens":            "keyed by session, not member; the sessions eraser deletes a deleted member's",
}

// column is one column of a table.
type column struct{ table, name string }

func (c column) String() string { return c.table + "." + c.name }

// schemaColumns lists every column of every table of db.
func schemaColumns(t *testing.T, ctx context.Context, db *sqldb.DB) []column {
	t.Helper()
	var q string
	switch db.Dialect {
	case sqldb.SQLite:
		q = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	case sqldb.Postgres:
		q = `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`
	}
	rows, err := db.R.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// holding returns the columns of db in which some row holds one of ids.
func holding(t *testing.T, ctx context.Context, db *sqldb.DB, cols []column, ids []rooms.UserID) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, c := range cols {
		for _, id := range ids {
			// The names come from the schema itself; quoting keeps them
			// names whatever they are.
			q := fmt.Sprintf(`SELECT count(*) FROM "%s" WHERE CAST("%s" AS TEXT) LIKE $1`, c.table, c.name)
			var n int
			if err := db.R.QueryRowContext(ctx, q, "%"+string(id)+"%").Scan(&n); err != nil {
				t.Fatalf("scan %s: %v", c, err)
			}
			if n > 0 {
				out[c.String()] = true
			}
		}
	}
	return out
}

func TestEveryMemberColumnIsErasedOrKeptOnSQLite(t *testing.T) {
	testMemberColumns(t, func(c *serveConfig) {})
}

func TestEveryMemberColumnIsErasedOrKeptOnPostgres(t *testing.T) {
	url := testenv.Postgres(t)
	testMemberColumns(t, func(c *serveConfig) { c.DatabaseURL = url })
}

// testMemberColumns checks the erasers against the real schemas, so that
// no store's data about members can be forgotten by account deletion:
//   - every table is accounted for, by an eraser's columns or as holding
//     no member;
//   - every column an eraser declares exists;
//   - with two members' data in every table (the stores' own write
//     methods put it there), every column that holds their IDs is
//     declared, and every declared one holds them, before or after;
//   - after both are deleted, their IDs are left only in the columns
//     declared Kept.
func testMemberColumns(t *testing.T, edit func(*serveConfig)) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cfg := serveConfig{DataDir: t.TempDir()}
	edit(&cfg)
	d, err := openDurable(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.close() })

	acfg := cfgForAccounts()
	accounts, err := newAccounts(acfg, d.members, limiters{
		signInUser: ratelimit.NewMemory(acfg.SignInPerUser), signInAddr: ratelimit.NewMemory(acfg.SignInPerAddr),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	deleter, err := newDeleter(d, accounts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]members.Fate{}
	for _, e := range deleter.Erasers() {
		for _, c := range e.Columns {
			declared[c.Table+"."+c.Column] = c.Fate
		}
	}

	dbs := []*sqldb.DB{d.roomsDB}
	if d.membersDB != d.roomsDB {
		dbs = append(dbs, d.membersDB)
	}
	cols := map[*sqldb.DB][]column{}
	tables := map[string]bool{}
	exists := map[string]bool{}
	for _, db := range dbs {
		cols[db] = schemaColumns(t, ctx, db)
		for _, c := range cols[db] {
			tables[c.table] = true
			exists[c.String()] = true
		}
	}
	accounted := map[string]bool{}
	for name := range declared {
		table, _, _ := strings.Cut(name, ".")
		accounted[table] = true
		if !exists[name] {
			t.Errorf("an eraser declares %s, which the schema does not have", name)
		}
	}
	for table := range tables {
		if _, ok := tablesWithoutMembers[table]; !accounted[table] && !ok {
			t.Errorf("table %s is accounted for by no eraser: declare its member columns in its store's Erasers "+
				"(wired in cmd/parley/deletion.go), or list it in tablesWithoutMembers with why", table)
		}
	}

	ids := seedEveryStore(t, ctx, d, accounts)
	before := map[string]bool{}
	for _, db := range dbs {
		for c := range holding(t, ctx, db, cols[db], ids) {
			before[c] = true
		}
	}
	for c := range before {
		if _, ok := declared[c]; !ok {
			t.Errorf("%s holds members' IDs, but no eraser declares it", c)
		}
	}
	for _, id := range ids {
		if res, err := deleter.DeleteAccount(ctx, members.DeleteRequest{User: id, Password: tourPassword}); err != nil || res.Pending {
			t.Fatalf("delete %s: %+v, %v", id, res, err)
		}
	}
	var left []string
	after := map[string]bool{}
	for _, db := range dbs {
		for c := range holding(t, ctx, db, cols[db], ids) {
			after[c] = true
			if declared[c] != members.Kept {
				left = append(left, c)
			}
		}
	}
	sort.Strings(left)
	if len(left) > 0 {
		t.Errorf("after deletion the members' IDs are still in %v, which are not declared Kept", left)
	}
	for c := range declared {
		if !before[c] && !after[c] {
			t.Errorf("%s is declared, but the seed put none of its members' IDs there: extend seedEveryStore", c)
		}
	}
}

// cfgForAccounts is the serve configuration newAccounts reads, with cheap
// password hashing left to the members defaults.
func cfgForAccounts() serveConfig {
	mc := members.DefaultConfig()
	return serveConfig{
		InviteQuota: mc.InviteQuota, InviteTTL: mc.InviteTTL, AccessTokenTTL: mc.AccessTTL,
		RefreshTokenTTL: mc.RefreshTTL, TokenTTL: mc.DevTokenTTL,
		SignInPerUser: mc.SignInPerUser, SignInPerAddr: mc.SignInPerAddress,
	}
}

// seedEveryStore puts data about two members into every table that can
// hold some, through the stores' own methods, and returns the two. A new
// store, or a new kind of member data, adds its part here.
func seedEveryStore(t *testing.T, ctx context.Context, d *durable, accounts *members.Service) []rooms.UserID {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Ann is the instance's first account; she invites Bob. Cat and Dan
	// stay.
	ann, err := accounts.CreateAdmin(ctx, members.SignUpRequest{Username: "ann", Password: tourPassword, DisplayName: "Ann"})
	must(err)
	inv, err := accounts.CreateInvite(ctx, ann.ID)
	must(err)
	bobUp, err := accounts.SignUp(ctx, members.SignUpRequest{Username: "bob", Password: tourPassword, DisplayName: "Bob", InviteCode: string(inv.Code)})
	must(err)
	bob := bobUp.Account
	inv2, err := accounts.CreateInvite(ctx, bob.ID)
	must(err)
	catUp, err := accounts.SignUp(ctx, members.SignUpRequest{Username: "cat", Password: tourPassword, DisplayName: "Cat", InviteCode: string(inv2.Code)})
	must(err)
	cat := catUp.Account
	dan, err := accounts.CreateAdmin(ctx, members.SignUpRequest{Username: "dan", Password: tourPassword, DisplayName: "Dan"})
	must(err)
	_, err = accounts.SignIn(ctx, "ann", tourPassword, "")
	must(err)

	now := time.Now().UTC().Truncate(time.Millisecond)
	must(d.members.Follow(ctx, ann.ID, cat.ID, now))
	must(d.members.Follow(ctx, cat.ID, bob.ID, now))
	must(d.members.Block(ctx, ann.ID, dan.ID, now))
	must(d.members.Block(ctx, dan.ID, bob.ID, now))

	room := rooms.Room{ID: rooms.NewRoomID(), Title: "Ann's room", CreatedBy: ann.ID, CreatedAt: now}
	must(d.rooms.CreateRoom(ctx, room))
	must(d.rooms.AddInvitee(ctx, rooms.Invitee{Room: room.ID, Member: bob.ID, InvitedBy: ann.ID, At: now}))
	must(d.rooms.AddInvitee(ctx, rooms.Invitee{Room: room.ID, Member: cat.ID, InvitedBy: ann.ID, At: now}))

	// Chat: Ann writes; Bob, moderating, deletes Cat's message.
	_, err = d.rooms.AddChatMessage(ctx, rooms.ChatMessage{ID: rooms.NewMessageID(), Room: room.ID, Author: ann.ID, Body: "hello", CreatedAt: now})
	must(err)
	catMsg, err := d.rooms.AddChatMessage(ctx, rooms.ChatMessage{ID: rooms.NewMessageID(), Room: room.ID, Author: cat.ID, Body: "spam", CreatedAt: now})
	must(err)
	_, err = d.rooms.DeleteChatMessage(ctx, room.ID, catMsg.ID, bob.ID, now)
	must(err)
	// History: Ann and Bob were in the room, Ann on stage.
	must(d.rooms.RecordPresence(ctx, []rooms.Presence{
		{Room: room.ID, User: ann.ID, JoinedAt: now, OnStageAt: now},
		{Room: room.ID, User: bob.ID, JoinedAt: now},
	}))
	// Events: Ann hosts one with Cat; Cat hosts one with Bob, which Bob
	// starts (its room lists him as co-host); Bob RSVPs to Ann's.
	annEvent := rooms.ScheduledEvent{ID: rooms.NewEventID(), Host: ann.ID, Cohosts: []rooms.UserID{cat.ID}, Title: "Ann's event",
		StartsAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	must(d.rooms.CreateEvent(ctx, annEvent))
	catEvent := rooms.ScheduledEvent{ID: rooms.NewEventID(), Host: cat.ID, Cohosts: []rooms.UserID{bob.ID, dan.ID}, Title: "Cat's event",
		StartsAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	must(d.rooms.CreateEvent(ctx, catEvent))
	must(d.rooms.SetRSVP(ctx, annEvent.ID, bob.ID, true, now))
	_, err = d.rooms.StartEvent(ctx, catEvent.ID, bob.ID, rooms.Room{ID: rooms.NewRoomID(), CreatedAt: now})
	must(err)
	// The moderation log and reports, both ways.
	must(d.rooms.RecordModAction(ctx, rooms.ModAction{ID: rooms.NewModActionID(), Room: room.ID, Actor: ann.ID, Target: bob.ID, Kind: rooms.ModMuted, At: now}))
	must(d.rooms.CreateReport(ctx, rooms.Report{ID: rooms.NewReportID(), Reporter: ann.ID, Member: cat.ID, Reason: "rude", CreatedAt: now}))
	must(d.rooms.CreateReport(ctx, rooms.Report{ID: rooms.NewReportID(), Reporter: cat.ID, Member: bob.ID, Room: room.ID, Reason: "loud", CreatedAt: now}))

	ids := []rooms.UserID{ann.ID, bob.ID}
	slices.Sort(ids)
	return ids
}
