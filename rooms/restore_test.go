package rooms

import (
	"errors"
	"testing"
	"time"
)

// testLiveRestore: what two processes know of a room is enough to put it
// back after the store lost it, each restoring its own participants.
func testLiveRestore(t *testing.T, live LiveStore, bus Bus) {
	before := newLiveRoom(t, live, bus, liveLimits)
	before.open("host")
	before.join("host")
	before.tick(time.Second)
	before.join("speaker")
	before.onStage("host", "speaker")
	before.do(act(ActMute, "host", "speaker"))
	before.tick(time.Second)
	before.join("first hand")
	before.do(act(ActRaiseHand, "first hand", ""))
	before.tick(time.Second)
	before.join("second hand")
	before.do(act(ActRaiseHand, "second hand", ""))
	before.tick(time.Second) // restored join order comes from join times
	before.join("invited")
	before.do(act(ActInvite, "host", "invited"))
	snap := before.snapshot()
	byName := func(name string) Participant {
		for _, p := range snap.Participants {
			if p.UserID == before.user(name) {
				return p
			}
		}
		t.Fatalf("%s not in the room", name)
		return Participant{}
	}

	// The store lost the room: its ID is new to the store, as after a
	// Redis restart. The process holding the speaker and a hand restores
	// first; no succession happens although no moderator is back yet.
	after := newLiveRoom(t, live, bus, liveLimits)
	after.users, after.names, after.sessions, after.labels = before.users, before.names, before.sessions, before.labels
	after.now = before.now.Add(time.Minute)
	ctx := t.Context()
	if err := live.Restore(ctx, after.id, after.user("host"), nil, []Participant{byName("speaker"), byName("second hand")}, snap.Seq, after.now, liveLimits); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	got := after.snapshot()
	if got.Seq != snap.Seq+2 {
		t.Errorf("seq after the first restore = %d, want %d (a gap after %d, then room_updated)", got.Seq, snap.Seq+2, snap.Seq)
	}
	if r := after.record("speaker"); r.Role != RoleSpeaker || !r.Muted {
		t.Errorf("restored speaker = %s, want a muted speaker (no succession while moderators may still come back)", after.showParticipant(r))
	}
	evs := after.log.take()
	if len(evs) != 1 || evs[0].Type != EventRoomUpdated || evs[0].Seq != snap.Seq+2 || !evs[0].HandsEnabled {
		t.Errorf("events of the first restore: %s, want one room_updated (hands on) at seq %d", after.showEvents(evs), snap.Seq+2)
	}

	// The second process restores the rest, with an older seq, and one of
	// the first's participants again: that one is left as it is.
	changed := byName("speaker")
	changed.Muted = false
	rest := []Participant{byName("host"), byName("first hand"), byName("invited"), changed}
	if err := live.Restore(ctx, after.id, after.user("host"), nil, rest, snap.Seq-1, after.now, liveLimits); err != nil {
		t.Fatalf("second Restore: %v", err)
	}
	got = after.snapshot()
	if got.Seq != snap.Seq+4 {
		t.Errorf("seq after the second restore = %d, want %d", got.Seq, snap.Seq+4)
	}
	if len(got.Participants) != len(snap.Participants) {
		t.Fatalf("restored room: %s, want everyone back: %s", after.showSnapshot(got), before.showSnapshot(snap))
	}
	for i, p := range got.Participants {
		want := snap.Participants[i]
		if p.UserID != want.UserID || p.Role != want.Role || p.Muted != want.Muted || p.Invited != want.Invited ||
			p.HandSeq != want.HandSeq || p.Session != want.Session || !p.StageSince.Equal(want.StageSince) {
			t.Errorf("participant %d after restoring = %s, want %s", i, after.showParticipant(p), before.showParticipant(want))
		}
	}
	// The room goes on: a new member joins at the end, actions work, and a
	// new hand queues after the restored ones.
	after.tick(time.Second)
	after.join("newcomer")
	after.do(act(ActRaiseHand, "newcomer", ""), act(ActMoveToAudience, "host", "speaker"))
	got = after.snapshot()
	if last := got.Participants[len(got.Participants)-1]; last.UserID != after.user("newcomer") || last.HandSeq <= byName("second hand").HandSeq {
		t.Errorf("newcomer after a restore = %s, want last in join order with the last hand", after.showParticipant(last))
	}
	if c := after.counts(); c.Speakers != 1 {
		t.Errorf("stage after demoting the speaker: %d on stage, want the host alone", c.Speakers)
	}

	// An ended room is not restored.
	if err := live.End(ctx, before.id, ReasonEndedByHost, after.now); err != nil {
		t.Fatal(err)
	}
	if err := live.Restore(ctx, before.id, before.user("host"), nil, nil, 0, after.now, liveLimits); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("restoring an ended room: %v, want ErrRoomEnded", err)
	}
}
