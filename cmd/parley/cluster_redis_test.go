package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling/client"
)

// Redis is flushed and restarted in the middle of a room (a private
// redis-server: the shared one is never flushed). Audio keeps flowing
// between the nodes, which need Redis for none of it; the nodes notice
// the loss by the registry's epoch and put back the room from what they
// hold; then a newcomer joins and finds everyone in their place, hears
// the speaker, and the moderator's actions work again.
func TestClusterSurvivesRedisLosingItsData(t *testing.T) {
	srv := testenv.StartRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nodes := clusterNodes(t, 2, srv.URL(), "parley", "PARLEY_PLACEMENT=local")
	a, b := nodes[0].server(), nodes[1].server()

	mod := a.signIn(t, ctx, "Moderator on A")
	room, err := mod.api.CreateRoom(ctx, "Redis goes away", "")
	if err != nil {
		t.Fatal(err)
	}
	mod.room = room.ID
	mod.connect(t, ctx, a, room.ID, true)
	hand := b.signIn(t, ctx, "Hand up on B")
	hand.connect(t, ctx, b, room.ID, false)
	act(t, ctx, hand, rooms.ActRaiseHand, nil)
	handRec := waitUpdate(t, ctx, mod, hand, rooms.CauseHandRaised)
	w, err := mod.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	warmUp(t, ctx, mod, w, []*person{hand})
	stop, done := make(chan struct{}), make(chan struct{})
	go talk(w, stop, done)
	defer func() { close(stop); <-done }()

	if err := srv.FlushAndRestart(); err != nil {
		t.Fatal(err)
	}
	restartedAt := time.Now()
	// Audio never stopped: the relay between A and B needs no Redis.
	if _, err := firstPacketAfter(ctx, hand, mod, restartedAt.Add(200*time.Millisecond)); err != nil {
		t.Fatalf("audio stopped with Redis: %v", err)
	}
	// The nodes rebuild the room: its head counts come back.
	for {
		v, err := getRoom(ctx, b, hand.api.Token, room.ID)
		if err == nil && v.SpeakerCount == 1 && v.ListenerCount == 1 {
			break
		}
		if time.Since(restartedAt) > 20*time.Second {
			t.Fatalf("the room was not rebuilt 20 s after Redis restarted: %+v, %v", v, err)
		}
		time.Sleep(100 * time.Millisecond) // polling the REST API
	}
	t.Logf("room rebuilt %v after Redis restarted", time.Since(restartedAt).Round(time.Millisecond))

	// A newcomer joins and finds everyone in their place.
	newcomer := b.signIn(t, ctx, "Newcomer on B")
	s, j, err := client.Connect(ctx, b.BaseURL, newcomer.api.Token, string(room.ID), client.Options{Loopback: true, OnTrack: newcomer.rec.onTrack})
	if err != nil {
		t.Fatalf("join after the restart: %v", err)
	}
	newcomer.sess = s
	t.Cleanup(func() { _ = s.Close() })
	roles := map[rooms.UserID]rooms.ParticipantJSON{}
	for _, p := range j.Participants {
		roles[p.UserID] = p
	}
	if roles[mod.id].Role != rooms.RoleModerator {
		t.Errorf("after the rebuild the moderator is %+v", roles[mod.id])
	}
	if r := roles[hand.id]; r.Role != rooms.RoleListener || r.HandRaisedSeq != handRec.HandRaisedSeq {
		t.Errorf("after the rebuild the raised hand is %+v, want hand_raised_seq %d", r, handRec.HandRaisedSeq)
	}
	if err := s.StartMedia(ctx, client.MediaOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := firstPacketAfter(ctx, newcomer, mod, time.Now()); err != nil {
		t.Fatalf("the newcomer hears nothing: %v", err)
	}
	// The room's events and actions go on, on both nodes.
	waitFor := func(p *person) {
		t.Helper()
		if _, err := p.sess.WaitFor(ctx, func(e envelope) bool {
			return e.Type == "participant_joined" && containsUser(e.Payload, newcomer.id)
		}); err != nil {
			t.Fatalf("%s did not see the newcomer join: %v", p.name, err)
		}
	}
	waitFor(mod)
	waitFor(hand)
	act(t, ctx, mod, rooms.ActInvite, hand)
	waitUpdate(t, ctx, hand, hand, rooms.CauseInvited)
}

// roomView is the part of a room the test reads.
type roomView struct {
	SpeakerCount  int `json:"speaker_count"`
	ListenerCount int `json:"listener_count"`
}

func getRoom(ctx context.Context, ts *testServer, token string, id rooms.RoomID) (roomView, error) {
	a := &client.API{BaseURL: ts.BaseURL, Token: token}
	body, err := a.GetAuthed(ctx, "/api/v1/rooms/"+string(id))
	if err != nil {
		return roomView{}, err
	}
	var v roomView
	if err := jsonUnmarshal(body, &v); err != nil {
		return roomView{}, fmt.Errorf("room: %w", err)
	}
	return v, nil
}
