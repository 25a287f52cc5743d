package rooms

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// The Service across time: sweeps, the runner, and what survives a
// restart or a failed end.

func TestServiceSweep(t *testing.T) {
	grace := serviceLimits.EmptyStageGrace
	t.Run("a room whose stage stayed empty for the grace ends", func(t *testing.T) {
		f := newServiceFixture(t)
		host := f.member(t, "Host")
		r := f.room(t, host, "Nobody came")
		heard := f.watch(t, r)
		f.clock.Advance(grace - time.Millisecond)
		f.Sweep(t.Context())
		if v, err := f.Room(t.Context(), r.ID); err != nil || !v.Live() {
			t.Fatalf("before the grace the room is %+v, %v; want it live", v.Room, err)
		}
		f.clock.Advance(time.Millisecond)
		f.Sweep(t.Context())
		v, err := f.Room(t.Context(), r.ID)
		if err != nil || v.Live() || !v.EndedAt.Equal(f.ms()) {
			t.Errorf("after the grace the room is %+v, %v; want it ended at %v", v.Room, err, f.ms())
		}
		checkEventTypes(t, "the sweep", heard.take(), "1 room_ended "+ReasonEmptyStage)
		if _, err := f.Join(t.Context(), r.ID, host.ID, NewSessionID()); !errors.Is(err, ErrRoomEnded) {
			t.Errorf("the creator joins after the sweep: err = %v, want ErrRoomEnded", err)
		}
	})
	t.Run("participants whose grace or lease ran out leave, renewed ones stay", func(t *testing.T) {
		f := newServiceFixture(t)
		host, guest := f.member(t, "Host"), f.member(t, "Guest")
		r := f.room(t, host, "Leases")
		hs, gs := NewSessionID(), NewSessionID()
		f.join(t, r, host, hs)
		f.join(t, r, guest, gs)
		heard := f.watch(t, r)
		f.clock.Advance(10 * time.Second)
		if err := f.Disconnect(t.Context(), r.ID, guest.ID, gs); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(15 * time.Second)
		if err := f.Renew(t.Context(), r.ID, []Held{{User: host.ID, Session: hs}}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(serviceLimits.ReconnectGrace - 15*time.Second) // the guest's grace is over
		f.Sweep(t.Context())
		checkEventTypes(t, "the guest's grace ran out", heard.take(), "3 participant_left "+ReasonDisconnected)
		f.clock.Advance(serviceLimits.LeaseTTL - 15*time.Second - time.Millisecond)
		f.Sweep(t.Context())
		checkEventTypes(t, "within the host's renewed lease", heard.take())
		// The host's server stopped renewing: the host leaves, and the
		// room ends once its stage stayed empty for the grace.
		f.clock.Advance(time.Millisecond)
		f.Sweep(t.Context())
		checkEventTypes(t, "the host's lease ran out", heard.take(), "4 participant_left "+ReasonDisconnected)
		f.clock.Advance(grace)
		f.Sweep(t.Context())
		checkEventTypes(t, "the stage stayed empty", heard.take(), "5 room_ended "+ReasonEmptyStage)
	})
}

func TestServiceRunSweepsOnEveryTickUntilCancelled(t *testing.T) {
	f := newServiceFixture(t)
	r := f.room(t, f.member(t, "Host"), "Ticking")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ticks := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx, ticks)
	}()
	f.clock.Advance(serviceLimits.EmptyStageGrace)
	// The second tick is taken only once the first sweep is over.
	ticks <- f.clock.Now()
	ticks <- f.clock.Now()
	if v, err := f.Room(t.Context(), r.ID); err != nil || v.Live() {
		t.Errorf("after a tick past the grace the room is %+v, %v; want it ended", v.Room, err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(busWait):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestServiceRecoverOpensLiveRoomsAfterARestart(t *testing.T) {
	first := newServiceFixture(t)
	host := first.member(t, "Host")
	live := first.room(t, host, "Still live")
	ended := first.room(t, host, "Over")
	first.join(t, live, host, NewSessionID())
	if _, err := first.EndRoom(t.Context(), host.ID, ended.ID); err != nil {
		t.Fatal(err)
	}

	// A new process over the same database, its live state empty.
	f := newServiceOn(t, first.db, first.members, first.clock)
	if _, err := f.Snapshot(t.Context(), live.ID); !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("a new process knows the room before Recover: %v", err)
	}
	f.clock.Advance(time.Hour)
	if err := f.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s := f.snapshot(t, live); len(s.Participants) != 0 || s.Seq != 0 {
		t.Errorf("a recovered room = %+v; want it open and empty", s)
	}
	if _, err := f.Snapshot(t.Context(), ended.ID); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("Recover opened an ended room: %v", err)
	}
	heard := f.watch(t, live)
	// Nobody on stage since the restart: it ends after the grace.
	f.clock.Advance(serviceLimits.EmptyStageGrace)
	f.Sweep(t.Context())
	checkEventTypes(t, "the sweep after a restart", heard.take(), "1 room_ended "+ReasonEmptyStage)
	if v, err := f.Room(t.Context(), live.ID); err != nil || v.Live() {
		t.Errorf("the recovered room after the grace = %+v, %v; want it ended", v.Room, err)
	}
}

func TestServiceJoinOpensTheLiveStateOfARoomFromBeforeARestart(t *testing.T) {
	first := newServiceFixture(t)
	host, guest := first.member(t, "Host"), first.member(t, "Guest")
	r := first.room(t, host, "Before")
	f := newServiceOn(t, first.db, first.members, first.clock)
	j := f.join(t, r, guest, NewSessionID())
	if j.Self.Role != RoleListener || j.Seq != 1 {
		t.Errorf("the first join after a restart = %+v; want a listener at seq 1", j.Self)
	}
	if h := f.join(t, r, host, NewSessionID()); h.Self.Role != RoleModerator {
		t.Errorf("the creator joins after a restart as %s, want moderator", h.Self.Role)
	}
}

// flakyEnd is a LiveStore whose End fails while failing is set.
type flakyEnd struct {
	LiveStore
	failing bool
}

func (f *flakyEnd) End(ctx context.Context, room RoomID, reason string, now time.Time) error {
	if f.failing {
		return ErrUnavailable
	}
	return f.LiveStore.End(ctx, room, reason, now)
}

// If ending a room ends its record but fails to clear its live state, a
// retry still clears it, although the record already says ended.
func TestServiceRetriedEndClearsLeftoverLiveState(t *testing.T) {
	db := openTestSQLite(t, filepath.Join(t.TempDir(), "parley.db"))
	bus := NewMemoryBus()
	t.Cleanup(func() { _ = bus.Close() })
	live := &flakyEnd{LiveStore: NewMemoryLive(bus), failing: true}
	svc := NewService(ServiceParams{Rooms: db, Members: newMemberDirectory(), Live: live, Bus: bus})
	host, err := svc.CreateMember(t.Context(), "Host")
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.CreateRoom(t.Context(), host.ID, NewRoom{Title: "Half-ended", Description: ""})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Join(t.Context(), r.ID, host.ID, NewSessionID()); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.EndRoom(t.Context(), host.ID, r.ID); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first end: err = %v, want ErrUnavailable", err)
	}
	live.failing = false
	if _, err := svc.EndRoom(t.Context(), host.ID, r.ID); !errors.Is(err, ErrRoomEnded) {
		t.Fatalf("retry: err = %v, want ErrRoomEnded", err)
	}
	if _, err := svc.Snapshot(t.Context(), r.ID); !errors.Is(err, ErrRoomEnded) {
		t.Fatalf("the live state after the retry: err = %v, want ErrRoomEnded", err)
	}
}
