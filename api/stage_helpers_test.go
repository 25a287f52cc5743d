package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-audio/parley/rooms"
)

// person is a signed-in member as the tests drive them.
type person struct {
	token string
	id    rooms.UserID
}

// stageFixture is a live room created by Ann, who is in it as its
// moderator, with Bob and Cat in it as listeners; Dan is signed in but not
// in the room.
type stageFixture struct {
	e                  *testEnv
	room               rooms.RoomID
	ann, bob, cat, dan person
}

func newStageFixture(t *testing.T, e *testEnv) *stageFixture {
	t.Helper()
	f := &stageFixture{e: e}
	for _, p := range []struct {
		who  *person
		name string
	}{{&f.ann, "Ann"}, {&f.bob, "Bob"}, {&f.cat, "Cat"}, {&f.dan, "Dan"}} {
		p.who.token, p.who.id = e.signIn(t, p.name)
	}
	f.room = e.createRoom(t, f.ann.token, "Stage").ID
	for _, p := range []person{f.ann, f.bob, f.cat} {
		// People join over signaling; here, through the service directly.
		if _, err := e.svc.Join(context.Background(), f.room, p.id, rooms.NewSessionID()); err != nil {
			t.Fatalf("join %s: %v", p.id, err)
		}
	}
	return f
}

// person returns the participant a test names: ann, bob, cat or dan.
func (f *stageFixture) person(t *testing.T, name string) person {
	t.Helper()
	switch name {
	case "ann":
		return f.ann
	case "bob":
		return f.bob
	case "cat":
		return f.cat
	case "dan":
		return f.dan
	}
	t.Fatalf("no person %q", name)
	return person{}
}

// path returns the room's path with suffix, in which {ann}, {bob}, {cat}
// and {dan} stand for their user IDs.
func (f *stageFixture) path(suffix string) string {
	suffix = strings.NewReplacer("{ann}", string(f.ann.id), "{bob}", string(f.bob.id),
		"{cat}", string(f.cat.id), "{dan}", string(f.dan.id)).Replace(suffix)
	return "/api/v1/rooms/" + string(f.room) + suffix
}

// must applies an action through the service, to arrange a test's state.
func (f *stageFixture) must(t *testing.T, kind rooms.ActionKind, actor, target person) {
	t.Helper()
	a := rooms.Action{Kind: kind, Actor: actor.id, Target: target.id}
	if err := f.e.svc.Act(context.Background(), f.room, a); err != nil {
		t.Fatalf("arrange %s by %s on %s: %v", kind, actor.id, target.id, err)
	}
}

// onStage puts listeners on stage as speakers: Ann invites, they accept.
func (f *stageFixture) onStage(t *testing.T, ps ...person) {
	t.Helper()
	for _, p := range ps {
		f.must(t, rooms.ActInvite, f.ann, p)
		f.must(t, rooms.ActAcceptInvite, p, person{})
	}
}

// detail returns the room as GET /rooms/{id} shows it.
func (f *stageFixture) detail(t *testing.T) roomDetailOut {
	t.Helper()
	resp, body := f.e.do(t, http.MethodGet, f.path(""), f.ann.token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get room: %d %s", resp.StatusCode, body)
	}
	var d roomDetailOut
	decodeStrictly(t, body, &d, true)
	return d
}

// who returns a participant as GET /rooms/{id} shows them, and whether
// they are in the room.
func (f *stageFixture) who(t *testing.T, p person) (participantOut, bool) {
	t.Helper()
	for _, got := range f.detail(t).Participants {
		if got.UserID == p.id {
			return got, true
		}
	}
	return participantOut{}, false
}

// mustWho is who for someone who must be in the room.
func (f *stageFixture) mustWho(t *testing.T, p person) participantOut {
	t.Helper()
	got, ok := f.who(t, p)
	if !ok {
		t.Fatalf("%s is not in the room", p.id)
	}
	return got
}

// queue returns the raised hands as GET /rooms/{id}/hands lists them.
func (f *stageFixture) queue(t *testing.T, as person) []participantOut {
	t.Helper()
	resp, body := f.e.do(t, http.MethodGet, f.path("/hands"), as.token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get hands: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Hands []participantOut `json:"hands"`
	}
	decodeStrictly(t, body, &out, true)
	if out.Hands == nil {
		t.Fatalf("hands is not an array: %s", body)
	}
	return out.Hands
}

func queueIDs(q []participantOut) []rooms.UserID {
	out := make([]rooms.UserID, len(q))
	for i, p := range q {
		out[i] = p.UserID
	}
	return out
}

func wantNoContent(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusNoContent || body != "" {
		t.Fatalf("status %d, body %q; want 204 and no body", resp.StatusCode, body)
	}
}

// stagePath is a stage route's path with {user_id} filled in, and a body
// it accepts.
func stagePath(rt stageRoute, f *stageFixture, user rooms.UserID) (path, body string) {
	path = f.path(strings.ReplaceAll(rt.path, "{user_id}", string(user)))
	if rt.kind == rooms.ActSetHands {
		body = `{"enabled":false}`
	}
	return path, body
}
