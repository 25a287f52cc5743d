package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/members"
)

// admin runs `parley admin args...` with stdin and returns its exit code
// and what it printed.
func admin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runAdmin(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// accountsOn opens the members service on the database the admin
// command used.
func accountsOn(t *testing.T, args ...string) *members.Service {
	t.Helper()
	cfg, err := loadConfig("test", args, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := openDurable(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.close() })
	svc, err := newAccounts(cfg, d.members, openLimiters(cfg, nil), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestAdminCommands(t *testing.T) {
	for _, db := range []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"sqlite", func(t *testing.T) []string { return []string{"--data-dir", t.TempDir()} }},
		{"postgres", func(t *testing.T) []string { return []string{"--database-url", testenv.Postgres(t)} }},
	} {
		t.Run(db.name, func(t *testing.T) {
			where := db.args(t)
			with := func(args ...string) []string { return append(args, where...) }

			code, out, errOut := admin(t, "a long enough password\n", with("create", "--username", "Root", "--display-name", "The Root")...)
			if code != 0 || !strings.Contains(out, "created admin root") {
				t.Fatalf("create: exit %d, %q %q", code, out, errOut)
			}
			svc := accountsOn(t, where...)
			g, err := svc.SignIn(t.Context(), "root", "a long enough password", "127.0.0.1")
			if err != nil || !g.Account.Admin || g.Account.DisplayName != "The Root" {
				t.Fatalf("the admin signs in: %+v, %v", g.Account, err)
			}

			code, out, _ = admin(t, "", with("list-waitlist")...)
			if code != 0 || !strings.Contains(out, "no one is on the waitlist") {
				t.Errorf("empty waitlist: exit %d, %q", code, out)
			}
			for _, u := range []string{"wait_a", "wait_b"} {
				r, err := svc.SignUp(t.Context(), members.SignUpRequest{Username: u, Password: "a long enough password", DisplayName: "Waiting " + u})
				if err != nil || r.Account.Status != members.StatusWaitlisted {
					t.Fatalf("sign up %s: %+v, %v", u, r.Account, err)
				}
			}
			code, out, _ = admin(t, "", with("list-waitlist")...)
			if code != 0 || !strings.Contains(out, "wait_a") || !strings.Contains(out, "Waiting wait_b") ||
				strings.Index(out, "wait_a") > strings.Index(out, "wait_b") {
				t.Errorf("waitlist: exit %d, %q; want both, oldest first", code, out)
			}
			code, out, errOut = admin(t, "", with("approve", "--username", "WAIT_A")...)
			if code != 0 || !strings.Contains(out, "approved wait_a") {
				t.Fatalf("approve: exit %d, %q %q", code, out, errOut)
			}
			if _, err := svc.SignIn(t.Context(), "wait_a", "a long enough password", "127.0.0.1"); err != nil {
				t.Errorf("the approved account cannot sign in: %v", err)
			}

			// What goes wrong is said, and exits 1.
			for _, tc := range []struct {
				stdin string
				args  []string
				want  string
			}{
				{"", with("approve", "--username", "wait_a"), "not on the waitlist"},
				{"", with("approve", "--username", "nobody"), "no account has that username"},
				{"another long password\n", with("create", "--username", "root", "--display-name", "Again"), "username is taken"},
				{"short\n", with("create", "--username", "x!", "--display-name", "X"), "username: must be 3 to 30 characters; password: must be at least 10"},
				{"", with("create", "--username", "quiet", "--display-name", "Quiet"), "no password on standard input"},
			} {
				code, _, errOut := admin(t, tc.stdin, tc.args...)
				if code != 1 || !strings.Contains(errOut, tc.want) {
					t.Errorf("admin %v: exit %d, %q; want 1 and %q", tc.args, code, errOut, tc.want)
				}
			}
		})
	}
}

func TestAdminUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: parley admin"},
		{[]string{"promote"}, `unknown command "promote"`},
		{[]string{"create", "--data-dir", dir, "--display-name", "X"}, "--username is required"},
		{[]string{"create", "--data-dir", dir, "--username", "x_name"}, "--display-name is required"},
		{[]string{"approve", "--data-dir", dir}, "--username is required"},
		{[]string{"list-waitlist", "--data-dir", dir, "--colour", "red"}, "flag provided but not defined"},
		{[]string{"list-waitlist", "--data-dir", dir, "stray"}, `unexpected argument "stray"`},
	} {
		code, out, errOut := admin(t, "", tc.args...)
		if code != 2 || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("admin %v: exit %d, %q %q; want 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if code, out, _ := admin(t, "", "help"); code != 0 || !strings.Contains(out, "list-waitlist") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}

func TestReadPasswordFromAPipe(t *testing.T) {
	for in, want := range map[string]string{
		"secret password\n":         "secret password",
		"secret password\r\nmore\n": "secret password",
		"no newline at the end":     "no newline at the end",
	} {
		got, err := readPassword(strings.NewReader(in), &bytes.Buffer{})
		if err != nil || got != want {
			t.Errorf("readPassword(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := readPassword(strings.NewReader("\n"), &bytes.Buffer{}); err == nil {
		t.Error("an empty line was taken as a password")
	}
}
