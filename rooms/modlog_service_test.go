package rooms

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Every moderation action of docs/stage.md, and chat's, leaves one entry:
// who did what to whom, when. What is not moderation leaves none.
func TestModerationLogRecordsEveryKindOfAction(t *testing.T) {
	f := newDataFixture(t, nil)
	r, ms := f.inRoom(t, "Host", "Ann", "Bob", "Cy", "Dee")
	host, ann, bob, cy, dee := ms[0], ms[1], ms[2], ms[3], ms[4]
	type want struct {
		kind          ModKind
		actor, target UserID
	}
	var wants []want
	step := func(a Action, w ...want) {
		t.Helper()
		f.clock.Advance(time.Second)
		f.act(t, r, a)
		wants = append(wants, w...)
	}
	step(Action{Kind: ActInvite, Actor: host.ID, Target: ann.ID}, want{ModInvited, host.ID, ann.ID})
	step(Action{Kind: ActAcceptInvite, Actor: ann.ID}, want{ModInviteAccepted, ann.ID, ann.ID})
	step(Action{Kind: ActMute, Actor: host.ID, Target: ann.ID}, want{ModMuted, host.ID, ann.ID})
	step(Action{Kind: ActUnmute, Actor: ann.ID})               // lifting one's own mute: not moderation
	step(Action{Kind: ActMute, Actor: ann.ID, Target: ann.ID}) // muting oneself: not moderation
	step(Action{Kind: ActRaiseHand, Actor: bob.ID})            // hands: not moderation
	step(Action{Kind: ActMakeModerator, Actor: host.ID, Target: ann.ID}, want{ModMadeModerator, host.ID, ann.ID})
	step(Action{Kind: ActInvite, Actor: ann.ID, Target: bob.ID}, want{ModInvited, ann.ID, bob.ID})
	step(Action{Kind: ActAcceptInvite, Actor: bob.ID}, want{ModInviteAccepted, bob.ID, bob.ID})
	step(Action{Kind: ActMoveToAudience, Actor: ann.ID, Target: bob.ID}, want{ModMovedToAudience, ann.ID, bob.ID})
	step(Action{Kind: ActMuteAll, Actor: host.ID}, want{ModMutedAll, host.ID, ""})
	step(Action{Kind: ActSetHands, Actor: host.ID, Enabled: false}, want{ModHandsDisabled, host.ID, ""})
	step(Action{Kind: ActSetHands, Actor: host.ID, Enabled: true}, want{ModHandsEnabled, host.ID, ""})
	step(Action{Kind: ActRemove, Actor: ann.ID, Target: cy.ID}, want{ModRemoved, ann.ID, cy.ID})
	step(Action{Kind: ActRemove, Actor: host.ID, Target: dee.ID, Block: true}, want{ModBlocked, host.ID, dee.ID})
	step(Action{Kind: ActStepDown, Actor: ann.ID}, want{ModSteppedDown, ann.ID, ann.ID})
	// Entries of one millisecond come in no particular order, so the
	// clock moves between steps.
	f.clock.Advance(time.Second)
	if err := f.SetChat(t.Context(), r.ID, host.ID, false); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	if err := f.SetChat(t.Context(), r.ID, host.ID, true); err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{ModChatDisabled, host.ID, ""}, want{ModChatEnabled, host.ID, ""})
	// A refused action leaves nothing.
	if err := f.Act(t.Context(), r.ID, Action{Kind: ActRemove, Actor: bob.ID, Target: ann.ID}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a listener removing someone: err = %v", err)
	}
	f.clock.Advance(time.Second)
	if _, err := f.EndRoom(t.Context(), host.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{ModRoomEnded, host.ID, ""})

	var got []ModAction
	cursor := ""
	for {
		page, names, next, err := f.ModLog(t.Context(), r.ID, host.ID, false, 4, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			if a.Room != r.ID || a.At.IsZero() || names[a.Actor] == "" {
				t.Errorf("entry %+v lacks its room, time or actor's name (%q)", a, names[a.Actor])
			}
		}
		got = append(got, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	slices.Reverse(got) // newest first → in order
	show := func(k ModKind, actor, target UserID) string {
		return fmt.Sprintf("%s %s→%s", k, f.nameOf(t, actor), f.nameOf(t, target))
	}
	var gotS, wantS []string
	for _, a := range got {
		gotS = append(gotS, show(a.Kind, a.Actor, a.Target))
	}
	for _, w := range wants {
		wantS = append(wantS, show(w.kind, w.actor, w.target))
	}
	if !slices.Equal(gotS, wantS) {
		t.Errorf("moderation log, oldest first:\n%q\nwant\n%q", gotS, wantS)
	}
}

func (f serviceFixture) nameOf(t *testing.T, id UserID) string {
	t.Helper()
	if id == "" {
		return "room"
	}
	m, err := f.Member(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.DisplayName
}

// The room's creator and co-hosts, its moderators while in it, and admins
// read its log; no one else does.
func TestModerationLogIsForModeratorsAndAdmins(t *testing.T) {
	f := newDataFixture(t, nil)
	r, ms := f.inRoom(t, "Host", "Mod", "Ann")
	host, mod, ann := ms[0], ms[1], ms[2]
	f.speaker(t, r, host, mod)
	f.act(t, r, Action{Kind: ActMakeModerator, Actor: host.ID, Target: mod.ID})
	outsider := f.member(t, "Out")
	for _, c := range []struct {
		who   Member
		admin bool
		ok    bool
	}{{host, false, true}, {mod, false, true}, {ann, false, false}, {outsider, false, false}, {outsider, true, true}} {
		_, _, _, err := f.ModLog(t.Context(), r.ID, c.who.ID, c.admin, 0, "")
		if c.ok != (err == nil) || (!c.ok && !errors.Is(err, ErrForbidden)) {
			t.Errorf("%s (admin %v) reading the log: err = %v, want allowed %v", c.who.DisplayName, c.admin, err, c.ok)
		}
	}
	if err := f.Leave(t.Context(), r.ID, mod.ID, f.snapshotSession(t, r, mod), ReasonLeft); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.ModLog(t.Context(), r.ID, mod.ID, false, 0, ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("a moderator who left reading the log: err = %v, want ErrForbidden", err)
	}
	if _, _, _, err := f.ModLog(t.Context(), NewRoomID(), host.ID, true, 0, ""); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("an unknown room's log: err = %v, want ErrRoomNotFound", err)
	}
	var ve *ValidationError
	if _, _, _, err := f.ModLog(t.Context(), r.ID, host.ID, false, 0, "forged"); !errors.As(err, &ve) {
		t.Errorf("a forged cursor: err = %v, want a ValidationError", err)
	}
}

func (f serviceFixture) snapshotSession(t *testing.T, r Room, m Member) SessionID {
	t.Helper()
	for _, p := range f.snapshot(t, r).Participants {
		if p.UserID == m.ID {
			return p.Session
		}
	}
	t.Fatalf("%s is not in %s", m.DisplayName, r.Title)
	return ""
}
