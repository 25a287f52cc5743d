package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

const tourPassword = "a password long enough"

// dialOK dials signaling with token and wants a welcome.
func dialOK(t *testing.T, ctx context.Context, ts *testServer, who, token string) {
	t.Helper()
	s, err := client.Dial(ctx, ts.BaseURL, token, client.Options{})
	if err != nil {
		t.Fatalf("%s: signaling refused a good token: %v", who, err)
	}
	_ = s.Close()
}

// dialRefused dials signaling with token and wants it refused as
// unauthorized.
func dialRefused(t *testing.T, ctx context.Context, ts *testServer, who, token string) {
	t.Helper()
	s, err := client.Dial(ctx, ts.BaseURL, token, client.Options{})
	if err == nil {
		_ = s.Close()
		t.Fatalf("%s: signaling accepted a signed-out token", who)
	}
	if !client.IsCode(err, signaling.CodeUnauthorized) {
		t.Fatalf("%s: signaling refused with %v, want %s", who, err, signaling.CodeUnauthorized)
	}
}

// waitSignedOut waits for an open connection to get goodbye signed_out and
// be closed with 4401.
func waitSignedOut(t *testing.T, ctx context.Context, who string, s *client.Session) {
	t.Helper()
	env, err := s.WaitFor(ctx, func(e signaling.Envelope) bool { return e.Type == signaling.TypeGoodbye })
	if err != nil {
		t.Fatalf("%s: no goodbye after sign-out: %v", who, err)
	}
	var g signaling.GoodbyePayload
	_ = json.Unmarshal(env.Payload, &g)
	if g.Reason != signaling.ReasonSignedOut {
		t.Errorf("%s: goodbye %q, want %q", who, g.Reason, signaling.ReasonSignedOut)
	}
	_, err = s.WaitFor(ctx, func(signaling.Envelope) bool { return false })
	if websocket.CloseStatus(errors.Unwrap(err)) != 4401 {
		t.Errorf("%s: connection ended with %v, want close code 4401", who, err)
	}
}

// Real accounts through the whole server: the first sign-up is admin, an
// invite lets the second in, and once signed out (or caught reusing a
// refresh token) a token is refused by REST and by signaling alike.
func TestSignedOutTokensAreRefusedByRESTAndSignaling(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	ts := startServer(t, func(c *serveConfig) { c.DevSignIn = false })
	ann := &client.API{BaseURL: ts.BaseURL, HTTP: ts.http}
	first, err := ann.SignUp(ctx, "ann", tourPassword, "Ann", "")
	if err != nil || !first.Member.Admin {
		t.Fatalf("first sign-up: %+v, %v", first.Member, err)
	}
	inv, err := ann.CreateInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bob := &client.API{BaseURL: ts.BaseURL, HTTP: ts.http}
	bobs, err := bob.SignUp(ctx, "bob", tourPassword, "Bob", inv.Code)
	if err != nil || bobs.Member.Status != "active" {
		t.Fatalf("invited sign-up: %+v, %v", bobs.Member, err)
	}
	if _, err := (&client.API{BaseURL: ts.BaseURL, HTTP: ts.http}).SignUp(ctx, "carl", tourPassword, "Carl", inv.Code); !client.IsCode(err, "invite_used") {
		t.Errorf("the invite a second time: %v, want invite_used", err)
	}
	dialOK(t, ctx, ts, "ann", ann.Token)
	dialOK(t, ctx, ts, "bob", bob.Token)
	open, err := client.Dial(ctx, ts.BaseURL, ann.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()

	// Sign-out: the open connection is closed, new ones refused.
	if err := ann.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	waitSignedOut(t, ctx, "ann's open connection", open)
	if _, err := ann.LiveRooms(ctx); !client.IsCode(err, "session_revoked") {
		t.Errorf("REST after sign-out: %v, want session_revoked", err)
	}
	dialRefused(t, ctx, ts, "ann after sign-out", first.Token)

	// Refresh rotates; the old refresh token is refused and ends the
	// session, so even the newest access token is refused.
	next, err := bob.Refresh(ctx, bobs.RefreshToken)
	if err != nil || next.RefreshToken == bobs.RefreshToken {
		t.Fatalf("refresh: %+v, %v", next, err)
	}
	dialOK(t, ctx, ts, "bob refreshed", next.Token)
	if _, err := bob.Refresh(ctx, bobs.RefreshToken); !client.IsCode(err, "refresh_reused") {
		t.Fatalf("the old refresh token: %v, want refresh_reused", err)
	}
	dialRefused(t, ctx, ts, "bob after a reused refresh token", next.Token)

	// The development sign-in is off: its route is gone.
	if _, err := (&client.API{BaseURL: ts.BaseURL, HTTP: ts.http}).DevSignIn(ctx, "Dev"); !client.IsCode(err, "not_found") {
		t.Errorf("dev sign-in while off: %v, want not_found", err)
	}
}

// Two server processes share one database: a sign-out on one is refused by
// the other's signaling within the revocation sync (2 s), plus a query.
func TestSignOutReachesTheOtherServerWithinTheSyncBound(t *testing.T) {
	dbURL := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	shared := func(c *serveConfig) { c.DatabaseURL = dbURL }
	a := startServer(t, shared)
	b := startServer(t, shared)
	ann := &client.API{BaseURL: a.BaseURL, HTTP: a.http}
	s, err := ann.SignUp(ctx, "ann", tourPassword, "Ann", "")
	if err != nil {
		t.Fatal(err)
	}
	dialOK(t, ctx, b, "ann on the other server", s.Token)
	open, err := client.Dial(ctx, b.BaseURL, s.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := ann.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	signedOut := time.Now()
	// The open connection on the other server is closed with its sync.
	waitSignedOut(t, ctx, "the open connection on the other server", open)
	t.Logf("the other server closed the open connection %v after sign-out", time.Since(signedOut).Round(time.Millisecond))
	for {
		c, err := client.Dial(ctx, b.BaseURL, s.Token, client.Options{})
		if err != nil {
			if !client.IsCode(err, signaling.CodeUnauthorized) {
				t.Fatalf("refused with %v, want %s", err, signaling.CodeUnauthorized)
			}
			break
		}
		_ = c.Close()
		// The documented bound is 2 s; noise on a busy machine gets
		// some slack, a missing sync would never get here.
		if time.Since(signedOut) > 10*time.Second {
			t.Fatal("the other server still accepts the token 10 s after sign-out")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the other server refused the signed-out token %v after sign-out", time.Since(signedOut).Round(time.Millisecond))
}
