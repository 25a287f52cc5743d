package rooms

import (
	"errors"
	"testing"
	"time"
)

// Unit tests of the memory stage's own choices, which the contract leaves
// to each store. Everything docs/stage.md says is in the contract suite.

func TestStageRefusesAnUnknownActionChangingNothing(t *testing.T) {
	st := newStage(NewRoomID(), "creator", nil, liveEpoch, liveLimits)
	if _, _, err := st.join(Participant{UserID: "creator", Session: "s"}, liveEpoch, liveLimits); err != nil {
		t.Fatal(err)
	}
	seq := st.seq
	evs, err := st.act(Action{Kind: "dance", Actor: "creator"}, liveEpoch, liveLimits)
	if !errors.Is(err, ErrInvalid) || len(evs) != 0 || st.seq != seq {
		t.Errorf("an unknown action = %v, %d events, seq %d→%d; want ErrInvalid and nothing", err, len(evs), seq, st.seq)
	}
}

func TestStageSuccessionBetweenSpeakersOnStageSinceTheSameInstantGoesByJoinOrder(t *testing.T) {
	st := newStage(NewRoomID(), "creator", nil, liveEpoch, liveLimits)
	for _, u := range []UserID{"creator", "first", "second"} {
		if _, _, err := st.join(Participant{UserID: u, Session: SessionID(u)}, liveEpoch, liveLimits); err != nil {
			t.Fatal(err)
		}
	}
	at := liveEpoch.Add(time.Second)
	// second accepts first, but both at the same instant.
	for _, a := range []Action{
		{Kind: ActInvite, Actor: "creator", Target: "second"}, {Kind: ActInvite, Actor: "creator", Target: "first"},
		{Kind: ActAcceptInvite, Actor: "second"}, {Kind: ActAcceptInvite, Actor: "first"},
	} {
		if _, err := st.act(a, at, liveLimits); err != nil {
			t.Fatalf("%s: %v", a.Kind, err)
		}
	}
	evs := st.leave("creator", "creator", ReasonLeft, at, liveLimits)
	if len(evs) != 2 || evs[1].Cause != CauseSuccession || evs[1].Participant.UserID != "first" {
		t.Errorf("events = %+v; want the creator's leave, then first (who joined first) made moderator", evs)
	}
}

func TestStageDueIsTheEarliestDeadline(t *testing.T) {
	l := Limits{StageCap: 3, ReconnectGrace: 10 * time.Second, LeaseTTL: time.Minute, EmptyStageGrace: 2 * time.Minute}
	st := newStage(NewRoomID(), "creator", nil, liveEpoch, l)
	if got := st.nextDue(); !got.Equal(liveEpoch.Add(l.EmptyStageGrace)) {
		t.Errorf("an empty new room is next due at %v, want when its empty stage ends it", got)
	}
	if _, _, err := st.join(Participant{UserID: "creator", Session: "s"}, liveEpoch, l); err != nil {
		t.Fatal(err)
	}
	if got := st.nextDue(); !got.Equal(liveEpoch.Add(l.LeaseTTL)) {
		t.Errorf("with the creator on stage the room is next due at %v, want when the lease runs out", got)
	}
	st.ended = true
	if got := st.nextDue(); !got.IsZero() {
		t.Errorf("an ended room is next due at %v, want never", got)
	}
}
