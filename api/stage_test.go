package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/parley-audio/parley/rooms"
)

func TestStageActions(t *testing.T) {
	e := newTestEnv(t, nil)
	tests := []struct {
		name    string
		arrange func(t *testing.T, f *stageFixture)
		as      string
		method  string
		path    string
		body    string
		check   func(t *testing.T, f *stageFixture)
	}{
		{
			name: "a listener raises their hand and joins the queue",
			as:   "bob", method: http.MethodPost, path: "/hand",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); p.HandRaisedSeq == 0 || p.Role != rooms.RoleListener {
					t.Errorf("bob = %+v, want a listener with a hand up", p)
				}
				if q := queueIDs(f.queue(t, f.cat)); !reflect.DeepEqual(q, []rooms.UserID{f.bob.id}) {
					t.Errorf("queue = %v, want [bob]", q)
				}
			},
		},
		{
			name: "raising a raised hand changes nothing",
			arrange: func(t *testing.T, f *stageFixture) {
				f.must(t, rooms.ActRaiseHand, f.bob, person{})
			},
			as: "bob", method: http.MethodPost, path: "/hand", body: `{}`,
			check: func(t *testing.T, f *stageFixture) {
				if q := f.queue(t, f.bob); len(q) != 1 || q[0].UserID != f.bob.id {
					t.Errorf("queue = %+v, want bob once", q)
				}
			},
		},
		{
			name: "a listener lowers their hand and leaves the queue",
			arrange: func(t *testing.T, f *stageFixture) {
				f.must(t, rooms.ActRaiseHand, f.bob, person{})
			},
			as: "bob", method: http.MethodDelete, path: "/hand",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); p.HandRaisedSeq != 0 {
					t.Errorf("bob = %+v, want the hand down", p)
				}
				if q := f.queue(t, f.bob); len(q) != 0 {
					t.Errorf("queue = %+v, want empty", q)
				}
			},
		},
		{
			name: "a moderator invites a listener",
			as:   "ann", method: http.MethodPost, path: "/participants/{bob}/invite",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); !p.Invited || p.Role != rooms.RoleListener {
					t.Errorf("bob = %+v, want an invited listener", p)
				}
			},
		},
		{
			name: "an invited listener with a hand up accepts and is an unmuted speaker with the hand down",
			arrange: func(t *testing.T, f *stageFixture) {
				f.must(t, rooms.ActRaiseHand, f.bob, person{})
				f.must(t, rooms.ActInvite, f.ann, f.bob)
			},
			as: "bob", method: http.MethodPost, path: "/invitation/accept",
			check: func(t *testing.T, f *stageFixture) {
				p := f.mustWho(t, f.bob)
				if p.Role != rooms.RoleSpeaker || p.Muted || p.Invited || p.HandRaisedSeq != 0 {
					t.Errorf("bob = %+v, want an unmuted speaker, hand down, no invitation", p)
				}
				if d := f.detail(t); d.SpeakerCount != 2 || d.ListenerCount != 1 {
					t.Errorf("counts = %d on stage, %d listening; want 2 and 1", d.SpeakerCount, d.ListenerCount)
				}
			},
		},
		{
			name: "an invited listener declines and stays a listener",
			arrange: func(t *testing.T, f *stageFixture) {
				f.must(t, rooms.ActInvite, f.ann, f.bob)
			},
			as: "bob", method: http.MethodPost, path: "/invitation/decline",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); p.Invited || p.Role != rooms.RoleListener {
					t.Errorf("bob = %+v, want a listener without invitation", p)
				}
			},
		},
		{
			name: "a moderator moves a speaker to the audience, which clears the mute",
			arrange: func(t *testing.T, f *stageFixture) {
				f.onStage(t, f.bob)
				f.must(t, rooms.ActMute, f.bob, person{})
			},
			as: "ann", method: http.MethodPost, path: "/participants/{bob}/move-to-audience",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); p.Role != rooms.RoleListener || p.Muted {
					t.Errorf("bob = %+v, want an unmuted listener", p)
				}
			},
		},
		{
			name: "a moderator makes a speaker a moderator",
			arrange: func(t *testing.T, f *stageFixture) {
				f.onStage(t, f.bob)
			},
			as: "ann", method: http.MethodPost, path: "/participants/{bob}/make-moderator",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); p.Role != rooms.RoleModerator {
					t.Errorf("bob = %+v, want a moderator", p)
				}
			},
		},
		{
			name: "a moderator mutes a speaker",
			arrange: func(t *testing.T, f *stageFixture) {
				f.onStage(t, f.bob)
			},
			as: "ann", method: http.MethodPost, path: "/participants/{bob}/mute",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); !p.Muted || p.Role != rooms.RoleSpeaker {
					t.Errorf("bob = %+v, want a muted speaker", p)
				}
			},
		},
		{
			name: "a speaker mutes themselves",
			arrange: func(t *testing.T, f *stageFixture) {
				f.onStage(t, f.bob)
			},
			as: "bob", method: http.MethodPost, path: "/participants/{bob}/mute",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); !p.Muted {
					t.Errorf("bob = %+v, want muted", p)
				}
			},
		},
		{
			name: "a muted speaker unmutes themselves",
			arrange: func(t *testing.T, f *stageFixture) {
				f.onStage(t, f.bob)
				f.must(t, rooms.ActMute, f.ann, f.bob)
			},
			as: "bob", method: http.MethodPost, path: "/participants/{bob}/unmute",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); p.Muted {
					t.Errorf("bob = %+v, want unmuted", p)
				}
			},
		},
		{
			name: "a moderator removes a listener, without a body, who may come back",
			as:   "ann", method: http.MethodPost, path: "/participants/{cat}/remove",
			check: func(t *testing.T, f *stageFixture) {
				if _, in := f.who(t, f.cat); in {
					t.Error("cat is still in the room")
				}
				if _, err := f.e.svc.Join(context.Background(), f.room, f.cat.id, rooms.NewSessionID()); err != nil {
					t.Errorf("cat rejoins: %v, want no error: the removal did not block", err)
				}
			},
		},
		{
			name: "a moderator removes a speaker with block false, who may come back",
			arrange: func(t *testing.T, f *stageFixture) {
				f.onStage(t, f.cat)
			},
			as: "ann", method: http.MethodPost, path: "/participants/{cat}/remove", body: `{"block":false}`,
			check: func(t *testing.T, f *stageFixture) {
				if _, in := f.who(t, f.cat); in {
					t.Error("cat is still in the room")
				}
				if _, err := f.e.svc.Join(context.Background(), f.room, f.cat.id, rooms.NewSessionID()); err != nil {
					t.Errorf("cat rejoins: %v", err)
				}
				if p := f.mustWho(t, f.cat); p.Role != rooms.RoleListener {
					t.Errorf("cat came back as %+v, want a listener", p)
				}
			},
		},
		{
			name: "a moderator removes and blocks a listener, who cannot rejoin",
			as:   "ann", method: http.MethodPost, path: "/participants/{cat}/remove", body: `{"block":true}`,
			check: func(t *testing.T, f *stageFixture) {
				if _, in := f.who(t, f.cat); in {
					t.Error("cat is still in the room")
				}
				_, err := f.e.svc.Join(context.Background(), f.room, f.cat.id, rooms.NewSessionID())
				if !errors.Is(err, rooms.ErrBlocked) {
					t.Errorf("cat rejoins: %v, want ErrBlocked", err)
				}
				if _, in := f.who(t, f.cat); in {
					t.Error("cat is back in the room")
				}
			},
		},
		{
			name: "a moderator mutes everyone on stage but themselves",
			arrange: func(t *testing.T, f *stageFixture) {
				f.onStage(t, f.bob, f.cat)
			},
			as: "ann", method: http.MethodPost, path: "/mute-all",
			check: func(t *testing.T, f *stageFixture) {
				for _, p := range f.detail(t).Participants {
					if wantMuted := p.UserID != f.ann.id; p.Muted != wantMuted {
						t.Errorf("%s muted = %v, want %v", p.DisplayName, p.Muted, wantMuted)
					}
				}
			},
		},
		{
			name: "a speaker steps down to the audience",
			arrange: func(t *testing.T, f *stageFixture) {
				f.onStage(t, f.bob)
			},
			as: "bob", method: http.MethodPost, path: "/step-down",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.bob); p.Role != rooms.RoleListener {
					t.Errorf("bob = %+v, want a listener", p)
				}
			},
		},
		{
			name: "the last moderator steps down and the speaker succeeds them",
			arrange: func(t *testing.T, f *stageFixture) {
				f.onStage(t, f.bob)
			},
			as: "ann", method: http.MethodPost, path: "/step-down",
			check: func(t *testing.T, f *stageFixture) {
				if p := f.mustWho(t, f.ann); p.Role != rooms.RoleListener {
					t.Errorf("ann = %+v, want a listener", p)
				}
				if p := f.mustWho(t, f.bob); p.Role != rooms.RoleModerator {
					t.Errorf("bob = %+v, want the moderator by succession", p)
				}
			},
		},
		{
			name: "a moderator turns hands off, which lowers every hand",
			arrange: func(t *testing.T, f *stageFixture) {
				f.must(t, rooms.ActRaiseHand, f.bob, person{})
				f.must(t, rooms.ActRaiseHand, f.cat, person{})
			},
			as: "ann", method: http.MethodPut, path: "/hands", body: `{"enabled":false}`,
			check: func(t *testing.T, f *stageFixture) {
				d := f.detail(t)
				if d.HandsEnabled {
					t.Error("hands_enabled is still true")
				}
				for _, p := range d.Participants {
					if p.HandRaisedSeq != 0 {
						t.Errorf("%s still has a hand up", p.DisplayName)
					}
				}
				if q := f.queue(t, f.ann); len(q) != 0 {
					t.Errorf("queue = %+v, want empty", q)
				}
			},
		},
		{
			name: "a moderator turns hands back on",
			arrange: func(t *testing.T, f *stageFixture) {
				if err := f.e.svc.Act(context.Background(), f.room, rooms.Action{Kind: rooms.ActSetHands, Actor: f.ann.id}); err != nil {
					t.Fatal(err)
				}
			},
			as: "ann", method: http.MethodPut, path: "/hands", body: `{"enabled":true}`,
			check: func(t *testing.T, f *stageFixture) {
				if !f.detail(t).HandsEnabled {
					t.Error("hands_enabled is still false")
				}
				f.must(t, rooms.ActRaiseHand, f.bob, person{})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStageFixture(t, e)
			if tt.arrange != nil {
				tt.arrange(t, f)
			}
			resp, body := e.do(t, tt.method, f.path(tt.path), f.person(t, tt.as).token, tt.body)
			wantNoContent(t, resp, body)
			tt.check(t, f)
		})
	}
}

// TestStageRefusals tries what docs/stage.md refuses, and checks that the
// refusal changed nothing.
func TestStageRefusals(t *testing.T) {
	e := newTestEnv(t, nil)
	speaker := func(names ...string) func(t *testing.T, f *stageFixture) {
		return func(t *testing.T, f *stageFixture) {
			for _, n := range names {
				f.onStage(t, f.person(t, n))
			}
		}
	}
	moderators := func(t *testing.T, f *stageFixture) {
		f.onStage(t, f.bob, f.cat)
		f.must(t, rooms.ActMakeModerator, f.ann, f.bob)
		f.must(t, rooms.ActMakeModerator, f.ann, f.cat)
	}
	tests := []struct {
		name    string
		arrange func(t *testing.T, f *stageFixture)
		as      string
		method  string
		path    string
		body    string
		status  int
		code    string
	}{
		// Moderator actions by a listener.
		{"a listener may not invite", nil, "bob", "POST", "/participants/{cat}/invite", "", 403, codeForbidden},
		{"a listener may not move a speaker to the audience", speaker("cat"), "bob", "POST", "/participants/{cat}/move-to-audience", "", 403, codeForbidden},
		{"a listener may not make a speaker a moderator", speaker("cat"), "bob", "POST", "/participants/{cat}/make-moderator", "", 403, codeForbidden},
		{"a listener may not mute a speaker", speaker("cat"), "bob", "POST", "/participants/{cat}/mute", "", 403, codeForbidden},
		{"a listener may not remove anyone", nil, "bob", "POST", "/participants/{cat}/remove", `{"block":true}`, 403, codeForbidden},
		{"a listener may not mute all", speaker("cat"), "bob", "POST", "/mute-all", "", 403, codeForbidden},
		{"a listener may not turn hands off", nil, "bob", "PUT", "/hands", `{"enabled":false}`, 403, codeForbidden},
		{"a speaker may not invite", speaker("bob"), "bob", "POST", "/participants/{cat}/invite", "", 403, codeForbidden},
		// Who may act on whom.
		{"no one acts on the creator", moderators, "bob", "POST", "/participants/{ann}/move-to-audience", "", 403, codeForbidden},
		{"no one removes the creator", moderators, "bob", "POST", "/participants/{ann}/remove", "", 403, codeForbidden},
		{"a moderator who is not the creator may not remove a moderator", moderators, "bob", "POST", "/participants/{cat}/remove", "", 403, codeForbidden},
		{"a moderator may not remove themselves", nil, "ann", "POST", "/participants/{ann}/remove", "", 403, codeForbidden},
		{"unmuting someone else is forbidden, even for a moderator", func(t *testing.T, f *stageFixture) {
			f.onStage(t, f.cat)
			f.must(t, rooms.ActMute, f.cat, person{})
		}, "ann", "POST", "/participants/{cat}/unmute", "", 403, codeForbidden},
		{"raising a hand on stage is forbidden", nil, "ann", "POST", "/hand", "", 403, codeForbidden},
		// Not in the room.
		{"inviting someone not in the room is not_in_room", nil, "ann", "POST", "/participants/{dan}/invite", "", 409, codeNotInRoom},
		{"removing someone not in the room is not_in_room", nil, "ann", "POST", "/participants/{dan}/remove", "", 409, codeNotInRoom},
		{"raising a hand from outside the room is not_in_room", nil, "dan", "POST", "/hand", "", 409, codeNotInRoom},
		{"muting all from outside the room is not_in_room", nil, "dan", "POST", "/mute-all", "", 409, codeNotInRoom},
		// The stage's own refusals.
		{"raising a hand when hands are off is hands_disabled", func(t *testing.T, f *stageFixture) {
			if err := f.e.svc.Act(context.Background(), f.room, rooms.Action{Kind: rooms.ActSetHands, Actor: f.ann.id}); err != nil {
				t.Fatal(err)
			}
		}, "bob", "POST", "/hand", "", 409, codeHandsDisabled},
		{"accepting without an invitation is not_invited", nil, "bob", "POST", "/invitation/accept", "", 409, codeNotInvited},
		{"declining without an invitation is not_invited", nil, "bob", "POST", "/invitation/decline", "", 409, codeNotInvited},
		{"inviting a speaker is already_on_stage", speaker("cat"), "ann", "POST", "/participants/{cat}/invite", "", 409, codeAlreadyOnStage},
		{"moving a listener to the audience is not_on_stage", nil, "ann", "POST", "/participants/{bob}/move-to-audience", "", 409, codeNotOnStage},
		{"making a listener a moderator is not_on_stage", nil, "ann", "POST", "/participants/{bob}/make-moderator", "", 409, codeNotOnStage},
		{"muting a listener is not_on_stage", nil, "ann", "POST", "/participants/{bob}/mute", "", 409, codeNotOnStage},
		{"a listener unmuting themselves is not_on_stage", nil, "bob", "POST", "/participants/{bob}/unmute", "", 409, codeNotOnStage},
		{"a listener stepping down is not_on_stage", nil, "bob", "POST", "/step-down", "", 409, codeNotOnStage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStageFixture(t, e)
			// A hand in the queue, so that a refusal that lowered it
			// would show.
			f.must(t, rooms.ActRaiseHand, f.cat, person{})
			if tt.arrange != nil {
				tt.arrange(t, f)
			}
			before := f.detail(t)
			resp, body := e.do(t, tt.method, f.path(tt.path), f.person(t, tt.as).token, tt.body)
			wantError(t, resp, body, tt.status, tt.code)
			if after := f.detail(t); !reflect.DeepEqual(before, after) {
				t.Errorf("the refusal changed the room:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

func TestStageFull(t *testing.T) {
	l := rooms.DefaultLimits()
	l.StageCap = 2
	e := newTestEnvWithLimits(t, l, nil)

	t.Run("the cap is in the room", func(t *testing.T) {
		f := newStageFixture(t, e)
		if d := f.detail(t); d.StageCap != 2 {
			t.Errorf("stage_cap = %d, want 2", d.StageCap)
		}
	})

	t.Run("inviting onto a full stage is stage_full", func(t *testing.T) {
		f := newStageFixture(t, e)
		f.onStage(t, f.bob) // Ann and Bob: 2 of 2
		resp, body := e.do(t, http.MethodPost, f.path("/participants/{cat}/invite"), f.ann.token, "")
		wantError(t, resp, body, http.StatusConflict, codeStageFull)
		if p := f.mustWho(t, f.cat); p.Invited {
			t.Errorf("cat = %+v, invited anyway", p)
		}
	})

	t.Run("accepting onto a full stage is stage_full and keeps the invitation", func(t *testing.T) {
		f := newStageFixture(t, e)
		f.must(t, rooms.ActInvite, f.ann, f.bob)
		f.must(t, rooms.ActInvite, f.ann, f.cat)
		f.must(t, rooms.ActAcceptInvite, f.bob, person{})
		resp, body := e.do(t, http.MethodPost, f.path("/invitation/accept"), f.cat.token, "")
		wantError(t, resp, body, http.StatusConflict, codeStageFull)
		if p := f.mustWho(t, f.cat); p.Role != rooms.RoleListener || !p.Invited {
			t.Errorf("cat = %+v, want a listener still invited", p)
		}

		// A seat frees up; the invitation still holds.
		resp, body = e.do(t, http.MethodPost, f.path("/step-down"), f.bob.token, "")
		wantNoContent(t, resp, body)
		resp, body = e.do(t, http.MethodPost, f.path("/invitation/accept"), f.cat.token, "")
		wantNoContent(t, resp, body)
		if p := f.mustWho(t, f.cat); p.Role != rooms.RoleSpeaker {
			t.Errorf("cat = %+v, want a speaker", p)
		}
	})
}

func TestModeratorsMayEndTheRoom(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newStageFixture(t, e)
	f.onStage(t, f.bob)

	t.Run("a speaker may not", func(t *testing.T) {
		resp, body := e.do(t, http.MethodPost, f.path("/end"), f.bob.token, "")
		wantError(t, resp, body, http.StatusForbidden, codeForbidden)
	})
	t.Run("someone not in the room may not", func(t *testing.T) {
		resp, body := e.do(t, http.MethodPost, f.path("/end"), f.dan.token, "")
		wantError(t, resp, body, http.StatusForbidden, codeForbidden)
	})
	t.Run("a moderator who did not create it may", func(t *testing.T) {
		f.must(t, rooms.ActMakeModerator, f.ann, f.bob)
		resp, body := e.do(t, http.MethodPost, f.path("/end"), f.bob.token, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if d := f.detail(t); d.Live {
			t.Errorf("the room is still live: %+v", d)
		}
	})
	t.Run("the creator may from outside the room", func(t *testing.T) {
		// Created, and never joined.
		room := e.createRoom(t, f.ann.token, "Empty")
		resp, body := e.do(t, http.MethodPost, "/api/v1/rooms/"+string(room.ID)+"/end", f.ann.token, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
}
