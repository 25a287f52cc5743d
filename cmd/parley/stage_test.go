package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// act sends a stage action and fails the test if it is refused.
func act(t *testing.T, ctx context.Context, p *person, kind rooms.ActionKind, target *person) {
	t.Helper()
	var payload any = struct{}{}
	if target != nil {
		payload = map[string]string{"user_id": string(target.id)}
	}
	if err := p.sess.Act(ctx, string(kind), payload); err != nil {
		t.Fatalf("%s: %s: %v", p.name, kind, err)
	}
}

// waitUpdate waits until p has seen a participant_updated about who with
// the given cause, and returns the record it carried.
func waitUpdate(t *testing.T, ctx context.Context, p, who *person, cause rooms.Cause) rooms.ParticipantJSON {
	t.Helper()
	var got signaling.ParticipantUpdatedPayload
	_, err := p.sess.WaitFor(ctx, func(e signaling.Envelope) bool {
		if e.Type != signaling.TypeParticipantUpdated {
			return false
		}
		var u signaling.ParticipantUpdatedPayload
		if json.Unmarshal(e.Payload, &u) != nil || u.Participant.UserID != who.id || u.Cause != cause {
			return false
		}
		got = u
		return true
	})
	if err != nil {
		t.Fatalf("%s never saw %s %s: %v", p.name, who.name, cause, err)
	}
	return got.Participant
}

// promote takes a listener on stage the way the protocol says: hand up,
// the moderator invites, the listener accepts, and then publishes on the
// PeerConnection it already has.
func promote(t *testing.T, ctx context.Context, mod, l *person) *client.Sender {
	t.Helper()
	act(t, ctx, l, rooms.ActRaiseHand, nil)
	if rec := waitUpdate(t, ctx, mod, l, rooms.CauseHandRaised); rec.HandRaisedSeq == 0 {
		t.Fatalf("%s's raised hand has no place in the queue", l.name)
	}
	act(t, ctx, mod, rooms.ActInvite, l)
	waitUpdate(t, ctx, l, l, rooms.CauseInvited)
	act(t, ctx, l, rooms.ActAcceptInvite, nil)
	if rec := waitUpdate(t, ctx, l, l, rooms.CauseInviteAccepted); rec.Role != rooms.RoleSpeaker || rec.HandRaisedSeq != 0 {
		t.Fatalf("after accepting, %s is %+v, want a speaker with the hand down", l.name, rec)
	}
	if err := l.sess.Publish(ctx); err != nil {
		t.Fatalf("%s publish on the same connection: %v", l.name, err)
	}
	w, err := l.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// A listener who is invited and accepts is heard by everyone, without
// rejoining: the same PeerConnection is renegotiated.
func TestInvitedListenerIsHeardByEveryone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t)
	rec := loadSpeech(t)
	mod, ls := openRoom(t, ctx, ts, "Stage", "Guest", "Listener A", "Listener B")
	guest := ls[0]
	pcBefore := guest.sess.PeerConnection()

	w := promote(t, ctx, mod, guest)
	if guest.sess.PeerConnection() != pcBefore {
		t.Fatal("the guest got a new PeerConnection; promotion must renegotiate the existing one")
	}
	audience := []*person{mod, ls[1], ls[2]}
	warmUp(t, ctx, guest, w, audience)
	first := sendRecording(t, ctx, w, rec, nil)
	var wg sync.WaitGroup
	for _, p := range audience {
		wg.Add(1)
		go func() { defer wg.Done(); expectRecording(t, ctx, p, guest, rec, first) }()
	}
	wg.Wait()
}

// talk sends silence-level frames from w every 20 ms until stop is closed,
// like an app that keeps its microphone open whatever the server says.
func talk(w *client.Sender, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	frame := []byte("frame from a client that never stops sending")
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			_, _ = w.Send(frame, 20)
		}
	}
}

// lastFrom is when the last packet from the speaker reached r.
func lastFrom(r *recorder, speaker *person) (time.Time, int) {
	var last time.Time
	n := 0
	for _, p := range r.snapshot() {
		if p.stream == string(speaker.id) {
			last, n = p.at, n+1
		}
	}
	return last, n
}

// Moving a speaker to the audience cuts their audio for everyone within
// 100 ms, even though their app keeps sending, and what it sends after is
// never forwarded.
func TestDemotedSpeakerIsCutWithin100ms(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t)
	mod, ls := openRoom(t, ctx, ts, "Demotion", "Guest", "Listener")
	guest, listener := ls[0], ls[1]
	w := promote(t, ctx, mod, guest)
	warmUp(t, ctx, guest, w, []*person{mod, listener})

	stop, done := make(chan struct{}), make(chan struct{})
	go talk(w, stop, done)
	// Let audio flow for a moment, so the cut is measured mid-stream.
	if err := listener.rec.waitFor(ctx, func(p []packet) bool { return len(p) > 50 }); err != nil {
		t.Fatal(err)
	}
	dropsBefore := ts.Media.Stats().Drops["not_permitted"]
	cutAt := time.Now()
	act(t, ctx, mod, rooms.ActMoveToAudience, guest)
	// The app keeps sending for another 1.5 s.
	time.AfterFunc(1500*time.Millisecond, func() { close(stop) })
	<-done

	for _, p := range []*person{mod, listener} {
		last, n := lastFrom(p.rec, guest)
		after := last.Sub(cutAt)
		t.Logf("%s: %d packets from the guest; the last arrived %v after the demotion was sent", p.name, n, after.Round(time.Millisecond))
		if after > 100*time.Millisecond {
			t.Errorf("%s still received the demoted speaker %v after the demotion, want within 100 ms", p.name, after)
		}
	}
	if d := ts.Media.Stats().Drops["not_permitted"] - dropsBefore; d < 50 {
		t.Errorf("the server dropped %d of the demoted speaker's packets, want the ~75 it kept sending", d)
	}
	rec := waitUpdate(t, ctx, guest, guest, rooms.CauseMovedToAudience)
	if rec.Role != rooms.RoleListener {
		t.Fatalf("the guest is %s, want listener", rec.Role)
	}
}

// A speaker muted by a moderator is not forwarded; no one else can unmute
// them; they can unmute themselves and are heard again.
func TestMutedSpeakerIsSilentUntilTheyUnmute(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t)
	mod, ls := openRoom(t, ctx, ts, "Mute", "Guest", "Listener")
	guest, listener := ls[0], ls[1]
	w := promote(t, ctx, mod, guest)
	warmUp(t, ctx, guest, w, []*person{listener})
	stop, done := make(chan struct{}), make(chan struct{})
	go talk(w, stop, done)
	defer func() { close(stop); <-done }()

	act(t, ctx, mod, rooms.ActMute, guest)
	mutedAt := time.Now()
	if rec := waitUpdate(t, ctx, guest, guest, rooms.CauseMuted); !rec.Muted {
		t.Fatal("the guest's record does not say muted")
	}
	// Nobody else may unmute them.
	err := mod.sess.Act(ctx, string(rooms.ActUnmute), map[string]string{"user_id": string(guest.id)})
	if !client.IsCode(err, signaling.CodeForbidden) {
		t.Fatalf("a moderator unmuting someone else: %v, want forbidden", err)
	}
	// Silence, measured over half a second well after the mute.
	quietFrom := mutedAt.Add(200 * time.Millisecond)
	quietUntil := quietFrom.Add(500 * time.Millisecond)
	time.Sleep(time.Until(quietUntil)) // a window of time to observe, not synchronization
	for _, p := range listener.rec.snapshot() {
		if p.stream == string(guest.id) && p.at.After(quietFrom) {
			t.Fatalf("the muted guest was forwarded %v after the mute", p.at.Sub(mutedAt))
		}
	}
	_, before := lastFrom(listener.rec, guest)
	act(t, ctx, guest, rooms.ActUnmute, nil)
	if err := listener.rec.waitFor(ctx, func(ps []packet) bool {
		n := 0
		for _, p := range ps {
			if p.stream == string(guest.id) {
				n++
			}
		}
		return n > before+10
	}); err != nil {
		t.Fatalf("the guest was not heard again after unmuting: %v", err)
	}
}

// A dropped connection keeps its place for the grace: rejoining gets the
// role and the raised hand, in the same place in the queue. After the
// grace, whoever has not come back is gone from the room.
func TestReconnectWithinGraceKeepsRoleAndHand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t, func(c *serveConfig) { c.ReconnectGrace = 3 * time.Second })
	mod, ls := openRoom(t, ctx, ts, "Flaky networks", "Hand up", "Goner")
	hand, goner := ls[0], ls[1]
	act(t, ctx, hand, rooms.ActRaiseHand, nil)
	handRec := waitUpdate(t, ctx, mod, hand, rooms.CauseHandRaised)
	act(t, ctx, goner, rooms.ActRaiseHand, nil)
	waitUpdate(t, ctx, mod, goner, rooms.CauseHandRaised)

	hand.sess.CloseNow()
	goner.sess.CloseNow()
	droppedAt := time.Now()
	s, err := client.Dial(ctx, ts.BaseURL, hand.api.Token, client.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	j, err := s.Join(ctx, string(mod.room))
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(droppedAt) > 3*time.Second {
		t.Fatal("rejoining took longer than the grace; the test proves nothing")
	}
	if j.Self.Role != rooms.RoleListener || j.Self.HandRaisedSeq != handRec.HandRaisedSeq {
		t.Fatalf("back within the grace: %+v, want the listener with hand_raised_seq %d", j.Self, handRec.HandRaisedSeq)
	}
	// The goner does not come back: after the grace the room says so.
	env, err := mod.sess.WaitFor(ctx, func(e signaling.Envelope) bool {
		var l signaling.ParticipantLeftPayload
		return e.Type == signaling.TypeParticipantLeft && json.Unmarshal(e.Payload, &l) == nil && l.UserID == goner.id
	})
	if err != nil {
		t.Fatal(err)
	}
	var left signaling.ParticipantLeftPayload
	_ = json.Unmarshal(env.Payload, &left)
	if gone := time.Since(droppedAt); left.Reason != rooms.ReasonDisconnected || gone < 3*time.Second {
		t.Fatalf("goner left after %v with reason %q, want after the 3 s grace with %q", gone, left.Reason, rooms.ReasonDisconnected)
	}
	// The one who came back never left.
	for _, e := range mod.sess.Events() {
		var l signaling.ParticipantLeftPayload
		if e.Type == signaling.TypeParticipantLeft && json.Unmarshal(e.Payload, &l) == nil && l.UserID == hand.id {
			t.Fatal("the member who reconnected within the grace was announced as gone")
		}
	}
}

// Forbidden actions, actions on someone not in the room, and actions that
// make no sense for their target each get their documented error, and the
// room's state does not move.
func TestStageActionsRefusedLeaveStateUnchanged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ts := startServer(t)
	mod, ls := openRoom(t, ctx, ts, "Rules", "Listener", "Other")
	listener, other := ls[0], ls[1]
	outsider := ts.signIn(t, ctx, "Outsider")

	before, err := mod.sess.Request(ctx, signaling.TypeJoin, signaling.JoinPayload{RoomID: string(mod.room)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		by      *person
		kind    string
		payload any
		code    string
	}{
		{"a listener invites", listener, "invite", map[string]string{"user_id": string(other.id)}, signaling.CodeForbidden},
		{"a listener mutes the moderator", listener, "mute", map[string]string{"user_id": string(mod.id)}, signaling.CodeForbidden},
		{"a listener removes someone", listener, "remove", map[string]string{"user_id": string(other.id)}, signaling.CodeForbidden},
		{"a listener ends the room", listener, "end_room", struct{}{}, signaling.CodeForbidden},
		{"a listener accepts no invitation", listener, "accept_invite", struct{}{}, signaling.CodeNotInvited},
		{"a listener unmutes", listener, "unmute", struct{}{}, signaling.CodeNotOnStage},
		{"the moderator invites someone not in the room", mod, "invite", map[string]string{"user_id": string(outsider.id)}, signaling.CodeNotInRoom},
		{"the moderator invites a made-up member", mod, "invite", map[string]string{"user_id": string(rooms.NewUserID())}, signaling.CodeNotInRoom},
		{"the moderator moves a listener to the audience", mod, "move_to_audience", map[string]string{"user_id": string(listener.id)}, signaling.CodeNotOnStage},
		{"the moderator invites themselves", mod, "invite", map[string]string{"user_id": string(mod.id)}, signaling.CodeForbidden},
		{"a raise with a payload it does not take", listener, "raise_hand", map[string]string{"user_id": string(other.id)}, signaling.CodeInvalidMessage},
		{"an invite without whom", mod, "invite", struct{}{}, signaling.CodeInvalidMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.by.sess.Act(ctx, tc.kind, tc.payload)
			if !client.IsCode(err, tc.code) {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
	after, err := mod.sess.Request(ctx, signaling.TypeJoin, signaling.JoinPayload{RoomID: string(mod.room)})
	if err != nil {
		t.Fatal(err)
	}
	var b, a signaling.JoinedPayload
	_ = json.Unmarshal(before.Payload, &b)
	_ = json.Unmarshal(after.Payload, &a)
	if before.Seq != after.Seq || fmt.Sprint(b.Participants) != fmt.Sprint(a.Participants) {
		t.Fatalf("refused actions changed the room: seq %d → %d", before.Seq, after.Seq)
	}
}

// A crowd of listeners joining reaches everyone in a few batched messages,
// not one message per listener, and in sequence.
func TestAudienceJoinsAreBatched(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t)
	mod, _ := openRoom(t, ctx, ts, "Crowd")
	const crowd = 40
	people := make([]*person, crowd)
	for i := range people {
		people[i] = ts.signIn(t, ctx, fmt.Sprintf("Listener %d", i))
	}
	framesBefore := mod.sess.Frames()
	var wg sync.WaitGroup
	for _, p := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := client.Dial(ctx, ts.BaseURL, p.api.Token, client.Options{Loopback: true})
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { _ = s.Close() })
			if _, err := s.Join(ctx, string(mod.room)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var lastSeq uint64
	seen := map[rooms.UserID]bool{}
	for len(seen) < crowd {
		if _, err := mod.sess.WaitFor(ctx, func(e signaling.Envelope) bool {
			if e.Type != signaling.TypeParticipantJoined {
				return false
			}
			var j signaling.ParticipantJoinedPayload
			_ = json.Unmarshal(e.Payload, &j)
			return !seen[j.Participant.UserID]
		}); err != nil {
			t.Fatalf("saw %d of %d joins: %v", len(seen), crowd, err)
		}
		seen = map[rooms.UserID]bool{}
		for _, e := range mod.sess.Events() {
			if e.Type == signaling.TypeParticipantJoined {
				var j signaling.ParticipantJoinedPayload
				_ = json.Unmarshal(e.Payload, &j)
				seen[j.Participant.UserID] = true
			}
		}
	}
	for _, e := range mod.sess.Events() {
		if e.Seq != 0 {
			if lastSeq != 0 && e.Seq != lastSeq+1 {
				t.Fatalf("seq went from %d to %d", lastSeq, e.Seq)
			}
			lastSeq = e.Seq
		}
	}
	frames := mod.sess.Frames() - framesBefore
	t.Logf("%d listeners joined; the moderator got %d messages for them", crowd, frames)
	if frames > crowd/4 {
		t.Fatalf("the moderator got %d messages for %d joins: audience events are not batched", frames, crowd)
	}
}
