package api

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

func TestHandsQueueIsFirstRaisedFirst(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newStageFixture(t, e)
	if q := f.queue(t, f.dan); len(q) != 0 {
		t.Fatalf("queue = %+v, want empty", q)
	}
	// Cat first, then Bob; Bob lowers and raises again, so goes to the end
	// behind a newcomer.
	eve := person{}
	eve.token, eve.id = e.signIn(t, "Eve")
	if _, err := e.svc.Join(context.Background(), f.room, eve.id, rooms.NewSessionID()); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		who    person
		method string
	}{
		{f.cat, http.MethodPost}, {f.bob, http.MethodPost}, {f.bob, http.MethodDelete},
		{eve, http.MethodPost}, {f.bob, http.MethodPost},
	} {
		resp, body := e.do(t, step.method, f.path("/hand"), step.who.token, "")
		wantNoContent(t, resp, body)
	}
	// Anyone signed in may read the queue, in the room or not.
	q := f.queue(t, f.dan)
	if got, want := queueIDs(q), []rooms.UserID{f.cat.id, eve.id, f.bob.id}; !reflect.DeepEqual(got, want) {
		t.Fatalf("queue = %v, want %v (cat, eve, bob)", got, want)
	}
	for i, p := range q {
		if p.Role != rooms.RoleListener || p.DisplayName == "" || p.JoinedAt.IsZero() {
			t.Errorf("hand %d = %+v", i, p)
		}
		if i > 0 && p.HandRaisedSeq <= q[i-1].HandRaisedSeq {
			t.Errorf("hand_raised_seq not increasing: %+v", q)
		}
	}
}

// TestModeratorFlowOverREST is the stage's main path, over REST alone: a
// listener raises a hand, the moderator reads the queue and invites them,
// they accept and are a speaker, and the room heard every step.
func TestModeratorFlowOverREST(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newStageFixture(t, e)
	events := make(chan rooms.Event, 64)
	unsubscribe := e.svc.Subscribe(f.room, func(ev rooms.Event) { events <- ev })
	defer unsubscribe()

	resp, body := e.do(t, http.MethodPost, f.path("/hand"), f.bob.token, "")
	wantNoContent(t, resp, body)

	q := f.queue(t, f.ann)
	if len(q) != 1 || q[0].UserID != f.bob.id {
		t.Fatalf("queue = %+v, want bob", q)
	}
	resp, body = e.do(t, http.MethodPost, f.path("/participants/"+string(q[0].UserID)+"/invite"), f.ann.token, "")
	wantNoContent(t, resp, body)
	if p := f.mustWho(t, f.bob); !p.Invited || p.HandRaisedSeq == 0 {
		t.Fatalf("bob = %+v, want invited with the hand still up", p)
	}

	resp, body = e.do(t, http.MethodPost, f.path("/invitation/accept"), f.bob.token, "")
	wantNoContent(t, resp, body)

	d := f.detail(t)
	var bob participantOut
	for _, p := range d.Participants {
		if p.UserID == f.bob.id {
			bob = p
		}
	}
	if bob.Role != rooms.RoleSpeaker || bob.Muted || bob.Invited || bob.HandRaisedSeq != 0 {
		t.Errorf("bob = %+v, want an unmuted speaker with no hand and no invitation", bob)
	}
	if d.SpeakerCount != 2 || d.ListenerCount != 1 {
		t.Errorf("counts: %d on stage, %d listening; want 2 and 1", d.SpeakerCount, d.ListenerCount)
	}
	if q := f.queue(t, f.ann); len(q) != 0 {
		t.Errorf("queue = %+v, want empty", q)
	}

	want := []struct {
		cause rooms.Cause
		by    rooms.UserID
	}{{rooms.CauseHandRaised, ""}, {rooms.CauseInvited, f.ann.id}, {rooms.CauseInviteAccepted, ""}}
	var lastSeq uint64
	for _, w := range want {
		select {
		case ev := <-events:
			if ev.Type != rooms.EventParticipantUpdated || ev.Cause != w.cause || ev.By != w.by || ev.Participant.UserID != f.bob.id {
				t.Errorf("event = %s %s by %q about %s; want %s by %q about bob", ev.Type, ev.Cause, ev.By, ev.Participant.UserID, w.cause, w.by)
			}
			if ev.Seq <= lastSeq {
				t.Errorf("seq %d after %d", ev.Seq, lastSeq)
			}
			lastSeq = ev.Seq
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s event", w.cause)
		}
	}
}

func TestHandsRouteMethods(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newStageFixture(t, e)
	for _, tt := range []struct{ method, path, allow string }{
		{http.MethodPost, "/hands", "GET, PUT"},
		{http.MethodPut, "/hand", "POST, DELETE"},
		{http.MethodGet, "/participants/{bob}/invite", "POST"},
		{http.MethodDelete, "/mute-all", "POST"},
	} {
		t.Run(tt.method+" "+tt.path+" is method_not_allowed", func(t *testing.T) {
			resp, body := e.do(t, tt.method, f.path(tt.path), f.ann.token, "")
			wantError(t, resp, body, http.StatusMethodNotAllowed, codeMethodNotAllowed)
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}
