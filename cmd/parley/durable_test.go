package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/sqldb"
	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling/client"
)

// With --database-url, rooms and members live in Postgres: a second server
// process (another data directory, the same database) knows them.
func TestServeKeepsRoomsAndMembersOnPostgres(t *testing.T) {
	dbURL := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	first := startServer(t, func(c *serveConfig) { c.DatabaseURL = dbURL })
	host := first.signIn(t, ctx, "Grace")
	room, err := host.api.CreateRoom(ctx, "On Postgres", "durable")
	if err != nil {
		t.Fatal(err)
	}
	first.stop()

	second := startServer(t, func(c *serveConfig) { c.DatabaseURL = dbURL })
	a := &client.API{BaseURL: second.BaseURL, HTTP: second.http, Token: host.api.Token}
	list, err := a.LiveRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Rooms) != 1 || list.Rooms[0].ID != room.ID || list.Rooms[0].CreatedBy.DisplayName != "Grace" {
		t.Fatalf("the second server lists %+v; want the room made on the first, hosted by Grace", list.Rooms)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, second.BaseURL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+host.api.Token)
	resp, err := second.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"display_name":"Grace"`) {
		t.Errorf("GET /me on the second server = %d %s", resp.StatusCode, body)
	}
}

// `parley migrate` applies the schema and says where it stands; a second
// run has nothing to do and says the same.
func TestMigrateCommand(t *testing.T) {
	targets := map[string][]string{
		"sqlite":   {"--data-dir", t.TempDir()},
		"postgres": {"--database-url", testenv.Postgres(t)},
	}
	for name, args := range targets {
		t.Run(name, func(t *testing.T) {
			for range 2 {
				var out, errOut bytes.Buffer
				if code := run(append([]string{"migrate"}, args...), &out, &errOut); code != 0 {
					t.Fatalf("parley migrate exited %d: %s", code, errOut.String())
				}
				for _, want := range []string{
					fmt.Sprintf("rooms schema at version %d", latest(t, rooms.Migrations)),
					fmt.Sprintf("members schema at version %d", latest(t, members.Migrations)),
				} {
					if !strings.Contains(out.String(), want) {
						t.Errorf("output %q lacks %q", out.String(), want)
					}
				}
			}
		})
	}
	var errOut bytes.Buffer
	if code := run([]string{"migrate", "--database-url", "postgres://[::1"}, &bytes.Buffer{}, &errOut); code != 2 {
		t.Errorf("parley migrate with a bad URL exited %d, want 2: %s", code, errOut.String())
	}
}

// latest is the newest migration this binary has of a store.
func latest(t *testing.T, m sqldb.Migrations) int {
	t.Helper()
	ms, err := m.Load(sqldb.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	return ms[len(ms)-1].Version
}
