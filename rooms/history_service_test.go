package rooms

import (
	"context"
	"errors"
	"testing"
	"time"
)

// History records who was on stage and the most listeners at once, as the
// room runs, and keeps them after it ends.
func TestHistoryRecordsSpeakersAndPeakListeners(t *testing.T) {
	f := newDataFixture(t, nil)
	host, ann, bob, cy, dee := f.member(t, "Host"), f.member(t, "Ann"), f.member(t, "Bob"), f.member(t, "Cy"), f.member(t, "Dee")
	r := f.room(t, host, "Recorded")
	start := f.ms()
	f.join(t, r, host, NewSessionID()) // on stage at once: a speaker
	for _, m := range []Member{ann, bob, cy} {
		f.clock.Advance(time.Second)
		f.join(t, r, m, NewSessionID())
	} // 3 listeners
	f.clock.Advance(time.Second)
	f.act(t, r, Action{Kind: ActInvite, Actor: host.ID, Target: ann.ID})
	f.act(t, r, Action{Kind: ActAcceptInvite, Actor: ann.ID}) // 2 listeners; ann spoke
	annOnStage := f.ms()
	f.clock.Advance(time.Second)
	f.join(t, r, dee, NewSessionID()) // 3 again
	f.clock.Advance(time.Second)
	f.act(t, r, Action{Kind: ActStepDown, Actor: ann.ID}) // 4: the peak
	f.clock.Advance(time.Second)
	if err := f.Leave(t.Context(), r.ID, bob.ID, f.snapshotSession(t, r, bob), ReasonLeft); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	f.act(t, r, Action{Kind: ActInvite, Actor: host.ID, Target: ann.ID})
	f.act(t, r, Action{Kind: ActAcceptInvite, Actor: ann.ID}) // on stage again: the first time counts

	// The janitor's tick writes what the service buffered: the store has
	// it without the service's help.
	f.Sweep(t.Context())
	stored, err := f.db.RoomHistory(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.PeakListeners != 4 || len(stored.Speakers) != 2 {
		t.Errorf("stored after a sweep: peak %d, %d speakers; want 4 and 2", stored.PeakListeners, len(stored.Speakers))
	}

	f.clock.Advance(time.Minute)
	if _, err := f.EndRoom(t.Context(), host.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	h, names, err := f.RoomHistory(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Room.CreatedAt.Equal(start) || !h.Room.EndedAt.Equal(f.ms()) || h.PeakListeners != 4 {
		t.Errorf("history: started %v, ended %v, peak %d; want %v, %v, 4", h.Room.CreatedAt, h.Room.EndedAt, h.PeakListeners, start, f.ms())
	}
	checkPresence(t, h.Speakers, []Presence{
		{Room: r.ID, User: host.ID, JoinedAt: start, OnStageAt: start},
		{Room: r.ID, User: ann.ID, JoinedAt: start.Add(time.Second), OnStageAt: annOnStage},
	})
	if names[ann.ID] != "Ann" || names[host.ID] != "Host" {
		t.Errorf("names = %v", names)
	}
	// Everyone who joined is in their own export's list, speakers or not.
	for _, m := range []Member{host, ann, bob, cy, dee} {
		got, err := f.db.RoomsJoinedBy(t.Context(), m.ID, Cursor{}, 10)
		if err != nil || len(got) != 1 || got[0].Room.ID != r.ID || got[0].OnStageAt.IsZero() != (m != host && m != ann) {
			t.Errorf("%s's rooms joined = %+v, %v", m.DisplayName, got, err)
		}
	}
	if _, _, err := f.RoomHistory(t.Context(), NewRoomID()); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("an unknown room's history: err = %v, want ErrRoomNotFound", err)
	}
}

// Stopping the janitor writes what is buffered.
func TestHistoryIsWrittenWhenTheServiceStops(t *testing.T) {
	f := newDataFixture(t, nil)
	host, ann := f.member(t, "Host"), f.member(t, "Ann")
	r := f.room(t, host, "Short")
	runCtx, stop := context.WithCancel(t.Context())
	defer stop()
	done := make(chan struct{})
	go func() { defer close(done); f.Run(runCtx, nil) }()
	f.join(t, r, host, NewSessionID())
	f.join(t, r, ann, NewSessionID())
	stop()
	<-done
	h, err := f.db.RoomHistory(t.Context(), r.ID)
	if err != nil || h.PeakListeners != 1 || len(h.Speakers) != 1 {
		t.Errorf("after Run stopped: %+v, %v; want a peak of 1 and the host on stage", h, err)
	}
}

// Without a data store, the service runs as before: nothing is recorded
// and the data features say they are unavailable.
func TestWithoutDataTheFeaturesAreUnavailable(t *testing.T) {
	f := newServiceFixture(t)
	host := f.member(t, "Host")
	r := f.room(t, host, "Plain")
	f.join(t, r, host, NewSessionID())
	f.act(t, r, Action{Kind: ActMuteAll, Actor: host.ID})
	f.Sweep(t.Context())
	if _, err := f.SendChat(t.Context(), r.ID, host.ID, "hi"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("chat without a data store: err = %v, want ErrUnavailable", err)
	}
	if _, _, err := f.RoomHistory(t.Context(), r.ID); !errors.Is(err, ErrUnavailable) {
		t.Errorf("history without a data store: err = %v, want ErrUnavailable", err)
	}
}
