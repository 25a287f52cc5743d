package rooms

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// The Redis tests' own clock start and numbers, apart from the contract
// suite's so that each can change without the other.
var (
	redisEpoch  = time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	redisLimits = Limits{StageCap: 3, ReconnectGrace: 30 * time.Second, LeaseTTL: 10 * time.Minute, EmptyStageGrace: 2 * time.Minute}
)

// newTestRedisLive returns a RedisLive on the test Redis, under a prefix
// of the test's own, closed when the test ends.
func newTestRedisLive(t testing.TB) (*RedisLive, *redis.Client, string) {
	t.Helper()
	client, prefix := testRedis(t)
	return newRedisLiveOn(t, client, prefix), client, prefix
}

// newRedisLiveOn is another "server process" on the same Redis and prefix:
// its own client and its own RedisLive.
func newRedisLiveOn(t testing.TB, client *redis.Client, prefix string) *RedisLive {
	t.Helper()
	own := redis.NewClient(client.Options())
	live := NewRedisLive(own, prefix)
	t.Cleanup(func() {
		if err := live.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		_ = own.Close()
	})
	return live
}

// checkNoLeaks fails the test if a goroutine it started outlives it.
func checkNoLeaks(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
}

func TestRedisLiveContract(t *testing.T) {
	checkNoLeaks(t)
	testRedis(t) // skip (or, under CI, fail) once, not in every case
	testLive(t, func(t *testing.T) (LiveStore, Bus) {
		live, _, _ := newTestRedisLive(t)
		return live, live
	})
}

// Two server processes, each with its own client, act on one room at
// once: 100 listeners split between them raise and lower hands, accept
// invitations and step down, while a moderator on each invites, demotes and
// mutes. Every script is atomic, so the room must come out whole, and both
// processes' subscribers must have seen the same gapless events, which
// replayed give the final state.
func TestRedisLiveTwoProcessesRaceOnOneRoom(t *testing.T) {
	checkNoLeaks(t)
	a, client, prefix := newTestRedisLive(t)
	b := newRedisLiveOn(t, client, prefix)
	procs := []*RedisLive{a, b}
	l := Limits{StageCap: 8, ReconnectGrace: time.Hour, LeaseTTL: time.Hour, EmptyStageGrace: time.Hour}
	room, now := NewRoomID(), redisEpoch
	logs := []*twinLog{watchTwin(t, a, room), watchTwin(t, b, room)}

	creator, mod := NewUserID(), NewUserID()
	mustAct := func(p *RedisLive, a Action) {
		t.Helper()
		if err := p.Act(t.Context(), room, a, now, l); err != nil {
			t.Fatalf("%+v: %v", a, err)
		}
	}
	join := func(p *RedisLive, u UserID) {
		t.Helper()
		if _, err := p.Join(t.Context(), room, Participant{UserID: u, DisplayName: string(u), JoinedAt: now, Session: NewSessionID()}, now, l); err != nil {
			t.Fatalf("join: %v", err)
		}
	}
	if err := a.Open(t.Context(), room, creator, nil, now, l); err != nil {
		t.Fatal(err)
	}
	join(a, creator)
	join(b, mod)
	mustAct(a, Action{Kind: ActInvite, Actor: creator, Target: mod})
	mustAct(b, Action{Kind: ActAcceptInvite, Actor: mod})
	mustAct(a, Action{Kind: ActMakeModerator, Actor: creator, Target: mod})
	listeners := make([]UserID, 100)
	for i := range listeners {
		listeners[i] = NewUserID()
		join(procs[i%2], listeners[i])
	}

	// Refusals are the rules at work; anything else is a failure.
	allowed := []error{ErrForbidden, ErrStageFull, ErrNotInvited, ErrAlreadyOnStage, ErrNotOnStage, ErrHandsDisabled}
	check := func(what string, err error) bool {
		if err == nil || slices.ContainsFunc(allowed, func(e error) bool { return errors.Is(err, e) }) {
			return true
		}
		t.Errorf("%s: %v", what, err)
		return false
	}
	var wg, mods sync.WaitGroup
	listenersDone := make(chan struct{})
	for i, u := range listeners {
		p := procs[i%2]
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(i), 1))
			// A listener's life: hand up, answer an invitation if one came,
			// unmute if on stage, sometimes step down, hand down.
			for range 12 {
				answer, leave := ActAcceptInvite, ActLowerHand
				if rnd.IntN(4) == 0 {
					answer = ActDeclineInvite
				}
				if rnd.IntN(2) == 0 {
					leave = ActStepDown
				}
				for _, kind := range []ActionKind{ActRaiseHand, answer, ActUnmute, leave, ActLowerHand} {
					if !check(string(kind), p.Act(t.Context(), room, Action{Kind: kind, Actor: u}, now, l)) {
						return
					}
				}
			}
		})
	}
	for i, m := range []UserID{creator, mod} {
		p := procs[i]
		mods.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(i), 2))
			// Moderate for as long as the listeners act.
			for {
				select {
				case <-listenersDone:
					return
				default:
				}
				target := listeners[rnd.IntN(len(listeners))]
				kind := []ActionKind{ActInvite, ActInvite, ActInvite, ActMoveToAudience, ActMute, ActMuteAll, ActSetHands, ActSetHands}[rnd.IntN(8)]
				if kind == ActMoveToAudience || kind == ActMute {
					// Someone on stage, as a moderator would pick; they may
					// have stepped down by the time the action runs.
					snap, err := p.Snapshot(t.Context(), room)
					if err != nil {
						t.Error(err)
						return
					}
					for _, q := range snap.Participants {
						if q.Role == RoleSpeaker {
							target = q.UserID
						}
					}
				}
				a := Action{Kind: kind, Actor: m, Target: target, Enabled: rnd.IntN(2) == 0}
				if !check(fmt.Sprintf("%+v", a), p.Act(t.Context(), room, a, now, l)) {
					return
				}
			}
		})
	}
	wg.Wait()
	close(listenersDone)
	mods.Wait()

	snap, err := b.Snapshot(t.Context(), room)
	if err != nil {
		t.Fatal(err)
	}
	checkWholeRoom(t, client, prefix, room, snap, l)
	evs := logs[0].all(t)
	if other := logs[1].all(t); !slices.EqualFunc(evs, other, sameEvent) {
		t.Fatalf("the two processes' subscribers saw different events: %d and %d", len(evs), len(other))
	}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: the seqs are not 1..%d in order", i, ev.Seq, len(evs))
		}
	}
	if uint64(len(evs)) != snap.Seq {
		t.Fatalf("%d events delivered, room seq %d", len(evs), snap.Seq)
	}
	if got, want := replay(evs), snap.Participants; !slices.EqualFunc(got, want, sameParticipant) {
		t.Errorf("replaying the events gives\n%+v\nthe store holds\n%+v", got, want)
	}
	// The race must have done what it is about.
	causes := make(map[Cause]int)
	for _, ev := range evs {
		causes[ev.Cause]++
	}
	for _, want := range []Cause{CauseHandRaised, CauseHandLowered, CauseInvited, CauseInviteAccepted, CauseInviteDeclined,
		CauseMovedToAudience, CauseMuted, CauseUnmuted, CauseSteppedDown, CauseHandsCleared} {
		if causes[want] == 0 {
			t.Errorf("no %s in %d events: the race did not get that far", want, len(evs))
		}
	}
}

// checkWholeRoom checks a room's invariants, and that the keys behind it
// agree with each other: counts, the stage and hand sets, the leases.
func checkWholeRoom(t *testing.T, client *redis.Client, prefix string, room RoomID, snap Snapshot, l Limits) {
	t.Helper()
	seen := make(map[UserID]bool)
	hands := make(map[uint64]bool)
	var stage, raised, all []string
	for _, p := range snap.Participants {
		if seen[p.UserID] {
			t.Errorf("%s is in the room twice", p.UserID)
		}
		seen[p.UserID] = true
		all = append(all, string(p.UserID))
		if p.Role.OnStage() {
			stage = append(stage, string(p.UserID))
			if p.HandSeq != 0 || p.Invited {
				t.Errorf("%s is on stage with a hand (%d) or an invitation (%t)", p.UserID, p.HandSeq, p.Invited)
			}
		} else if p.Muted {
			t.Errorf("listener %s is muted", p.UserID)
		}
		if p.HandSeq != 0 {
			if hands[p.HandSeq] {
				t.Errorf("two hands went up at seq %d", p.HandSeq)
			}
			hands[p.HandSeq] = true
			raised = append(raised, string(p.UserID))
		}
	}
	if len(stage) > l.StageCap {
		t.Errorf("%d on stage, the cap is %d", len(stage), l.StageCap)
	}
	live := NewRedisLive(client, prefix)
	defer func() { _ = live.Close() }()
	c, err := live.Counts(t.Context(), room)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Speakers: len(stage), Listeners: len(all) - len(stage)}); c != want {
		t.Errorf("Counts = %+v, the snapshot has %+v", c, want)
	}
	keys := live.keys(room)
	for _, k := range []struct {
		key  string
		want []string
	}{{keys[2], all}, {keys[3], stage}, {keys[4], raised}} {
		got, err := client.ZRange(t.Context(), k.key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		slices.Sort(k.want)
		if !slices.Equal(got, k.want) {
			t.Errorf("%s holds %v, the snapshot says %v", k.key, got, k.want)
		}
	}
}

// replay builds a room's participants from its events alone.
func replay(evs []Event) []Participant {
	var ps []Participant
	for _, ev := range evs {
		i := slices.IndexFunc(ps, func(p Participant) bool { return p.UserID == ev.Participant.UserID })
		switch ev.Type {
		case EventParticipantJoined:
			ps = append(ps, ev.Participant)
		case EventParticipantUpdated:
			ps[i] = ev.Participant
		case EventParticipantLeft:
			ps = slices.Delete(ps, i, i+1)
		}
	}
	return ps
}

func sameParticipant(a, b Participant) bool {
	return a.UserID == b.UserID && a.DisplayName == b.DisplayName && a.Role == b.Role && a.JoinedAt.Equal(b.JoinedAt) &&
		a.Muted == b.Muted && a.Invited == b.Invited && a.HandSeq == b.HandSeq && a.StageSince.Equal(b.StageSince) &&
		a.Session == b.Session
}

func sameEvent(a, b Event) bool {
	return a.Type == b.Type && a.Room == b.Room && a.Seq == b.Seq && a.At.Equal(b.At) && sameParticipant(a.Participant, b.Participant) &&
		a.Cause == b.Cause && a.By == b.By && a.Speaking == b.Speaking && a.Reason == b.Reason && a.Blocked == b.Blocked &&
		a.HandsEnabled == b.HandsEnabled && a.Audience == b.Audience
}

func TestRedisLiveScriptsSurviveScriptFlush(t *testing.T) {
	checkNoLeaks(t)
	live, client, _ := newTestRedisLive(t)
	room, l := NewRoomID(), redisLimits
	host, guest := NewUserID(), NewUserID()
	if err := live.Open(t.Context(), room, host, nil, redisEpoch, l); err != nil {
		t.Fatal(err)
	}
	for _, u := range []UserID{host, guest} {
		if _, err := live.Join(t.Context(), room, Participant{UserID: u, Session: NewSessionID()}, redisEpoch, l); err != nil {
			t.Fatal(err)
		}
	}
	for i, kind := range []ActionKind{ActRaiseHand, ActLowerHand, ActRaiseHand} {
		// Redis forgets every script, as after a restart or a failover to
		// a replica that never ran them: EVALSHA fails with NOSCRIPT and
		// the store sends the script again.
		if err := client.ScriptFlush(t.Context()).Err(); err != nil {
			t.Fatal(err)
		}
		if err := live.Act(t.Context(), room, Action{Kind: kind, Actor: guest}, redisEpoch, l); err != nil {
			t.Fatalf("%s after SCRIPT FLUSH: %v", kind, err)
		}
		snap, err := live.Snapshot(t.Context(), room)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(3 + i); snap.Seq != want {
			t.Errorf("seq = %d after %s, want %d", snap.Seq, kind, want)
		}
	}
}

func TestRedisLiveEndLeavesOnlyATombstone(t *testing.T) {
	checkNoLeaks(t)
	live, client, prefix := newTestRedisLive(t)
	room, l := NewRoomID(), redisLimits
	host, speaker, hand, blocked := NewUserID(), NewUserID(), NewUserID(), NewUserID()
	if err := live.Open(t.Context(), room, host, nil, redisEpoch, l); err != nil {
		t.Fatal(err)
	}
	for _, u := range []UserID{host, speaker, hand, blocked} {
		if _, err := live.Join(t.Context(), room, Participant{UserID: u, Session: NewSessionID()}, redisEpoch, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []Action{
		{Kind: ActInvite, Actor: host, Target: speaker}, {Kind: ActAcceptInvite, Actor: speaker},
		{Kind: ActRaiseHand, Actor: hand}, {Kind: ActRemove, Actor: host, Target: blocked, Block: true},
	} {
		if err := live.Act(t.Context(), room, a, redisEpoch, l); err != nil {
			t.Fatal(err)
		}
	}
	keys := live.keys(room)
	if got := redisKeys(t, client, prefix); len(got) != 7 {
		t.Fatalf("a live room with all its sets has keys %v, want 7 (meta, p, leases, stage, hands, blocked, due)", got)
	}

	if err := live.End(t.Context(), room, ReasonEndedByHost, redisEpoch); err != nil {
		t.Fatal(err)
	}
	if got := redisKeys(t, client, prefix); !slices.Equal(got, []string{keys[0]}) {
		t.Errorf("after End the keys are %v, want only the tombstone %s", got, keys[0])
	}
	ttl, err := client.PTTL(t.Context(), keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > redisTombstoneTTL {
		t.Errorf("the tombstone expires in %v, want within %v", ttl, redisTombstoneTTL)
	}
	if due, err := live.Due(t.Context(), redisEpoch.Add(24*time.Hour), 0); err != nil || slices.Contains(due, room) {
		t.Errorf("Due after End = %v, %v; want the room gone from the index", due, err)
	}
	// The tombstone keeps the room ended and changes nothing more.
	if _, err := live.Join(t.Context(), room, Participant{UserID: host, Session: NewSessionID()}, redisEpoch, l); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("Join after End: %v, want ErrRoomEnded", err)
	}
	if err := live.Open(t.Context(), room, host, nil, redisEpoch, l); err != nil {
		t.Fatal(err)
	}
	if got := redisKeys(t, client, prefix); !slices.Equal(got, []string{keys[0]}) {
		t.Errorf("after Join and Open of the ended room the keys are %v, want only %s", got, keys[0])
	}
}

func TestRedisLiveDueAcrossRooms(t *testing.T) {
	checkNoLeaks(t)
	live, client, _ := newTestRedisLive(t)
	l := Limits{StageCap: 3, ReconnectGrace: time.Minute, LeaseTTL: 30 * time.Second, EmptyStageGrace: 2 * time.Minute}
	// Rooms opened a second apart, each due when its empty stage has
	// lasted the grace; enough of them to land in many buckets.
	rooms := make([]RoomID, 40)
	buckets := make(map[int]bool)
	for i := range rooms {
		rooms[i] = NewRoomID()
		buckets[redisBucket(rooms[i])] = true
		if err := live.Open(t.Context(), rooms[i], NewUserID(), nil, redisEpoch.Add(time.Duration(i)*time.Second), l); err != nil {
			t.Fatal(err)
		}
	}
	if len(buckets) < 2 {
		t.Fatalf("40 rooms fell in %d bucket", len(buckets))
	}
	due := func(at time.Duration, limit int) []RoomID {
		t.Helper()
		got, err := live.Due(t.Context(), redisEpoch.Add(at), limit)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := due(2*time.Minute-time.Millisecond, 0); len(got) != 0 {
		t.Errorf("Due before any deadline = %v, want none", got)
	}
	if got := due(2*time.Minute+9*time.Second, 0); !slices.Equal(got, rooms[:10]) {
		t.Errorf("Due at the tenth deadline = %v, want the first ten rooms in deadline order %v", got, rooms[:10])
	}
	if got := due(time.Hour, 5); !slices.Equal(got, rooms[:5]) {
		t.Errorf("Due with limit 5 = %v, want the five due longest %v", got, rooms[:5])
	}
	// A creator on stage clears the deadline: the next thing due is their
	// lease, which renewing pushes back.
	creator := NewUserID()
	if err := live.Open(t.Context(), NewRoomID(), creator, nil, redisEpoch, l); err != nil {
		t.Fatal(err)
	}
	busy := NewRoomID()
	if err := live.Open(t.Context(), busy, creator, nil, redisEpoch, l); err != nil {
		t.Fatal(err)
	}
	ses := NewSessionID()
	if _, err := live.Join(t.Context(), busy, Participant{UserID: creator, Session: ses}, redisEpoch, l); err != nil {
		t.Fatal(err)
	}
	if got := due(29*time.Second, 0); slices.Contains(got, busy) {
		t.Errorf("Due lists the room before its only lease runs out")
	}
	if got := due(30*time.Second, 0); !slices.Contains(got, busy) {
		t.Errorf("Due does not list the room when its only lease runs out")
	}
	if err := live.Renew(t.Context(), busy, []Held{{User: creator, Session: ses}}, redisEpoch.Add(20*time.Second), l); err != nil {
		t.Fatal(err)
	}
	if got := due(49*time.Second, 0); slices.Contains(got, busy) {
		t.Errorf("Due lists the room before its renewed lease runs out")
	}
	if err := live.End(t.Context(), rooms[0], ReasonEmptyStage, redisEpoch); err != nil {
		t.Fatal(err)
	}
	// A room whose keys went some other way (deleted by hand, evicted)
	// leaves the index at its next Expire.
	if err := client.Del(t.Context(), live.keys(rooms[1])[:6]...).Err(); err != nil {
		t.Fatal(err)
	}
	if end, err := live.Expire(t.Context(), rooms[1], redisEpoch.Add(time.Hour), l); err != nil || end {
		t.Fatalf("Expire of a room without keys = %t, %v; want false, nil", end, err)
	}
	if got := due(time.Hour, 0); slices.Contains(got, rooms[0]) || slices.Contains(got, rooms[1]) || len(got) != len(rooms)-2+2 {
		t.Errorf("Due after ending one room and losing another = %d rooms (has them: %t, %t), want %d",
			len(got), slices.Contains(got, rooms[0]), slices.Contains(got, rooms[1]), len(rooms))
	}
}

func TestRedisLiveWithoutRedisIsUnavailable(t *testing.T) {
	checkNoLeaks(t)
	// Port 1 on loopback: nothing listens, connections are refused at once.
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, DialerRetries: 1, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	live := NewRedisLive(client, "parleytest-down")
	t.Cleanup(func() {
		if err := live.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	room := NewRoomID()
	for what, err := range map[string]error{
		"Ping":    live.Ping(t.Context()),
		"Act":     live.Act(t.Context(), room, Action{Kind: ActRaiseHand, Actor: NewUserID()}, redisEpoch, redisLimits),
		"Publish": live.Publish(t.Context(), Event{Type: EventSpeaking, Room: room}),
	} {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s without Redis: %v, want ErrUnavailable", what, err)
		}
	}
	if _, err := live.Due(t.Context(), redisEpoch, 10); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Due without Redis: %v, want ErrUnavailable", err)
	}
}

// BenchmarkRedisAct measures one action against the test Redis: a hand
// going up or down, which is one script run with its event published.
func BenchmarkRedisAct(b *testing.B) {
	for _, size := range []int{2, 1000} {
		live, _, _ := newTestRedisLive(b)
		room, l := NewRoomID(), Limits{StageCap: 20, ReconnectGrace: time.Hour, LeaseTTL: time.Hour, EmptyStageGrace: time.Hour}
		creator := NewUserID()
		if err := live.Open(b.Context(), room, creator, nil, redisEpoch, l); err != nil {
			b.Fatal(err)
		}
		users := []UserID{creator}
		for len(users) < size {
			users = append(users, NewUserID())
		}
		for _, u := range users {
			if _, err := live.Join(b.Context(), room, Participant{UserID: u, Session: NewSessionID()}, redisEpoch, l); err != nil {
				b.Fatal(err)
			}
		}
		kinds := [2]ActionKind{ActRaiseHand, ActLowerHand}
		b.Run(fmt.Sprintf("hand up and down in a room of %d", size), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := live.Act(b.Context(), room, Action{Kind: kinds[i%2], Actor: users[1]}, redisEpoch, l); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("hands up and down in parallel in a room of %d", size), func(b *testing.B) {
			var next sync.Mutex
			n := 0
			b.RunParallel(func(pb *testing.PB) {
				next.Lock()
				n++
				u := users[1+n%(len(users)-1)]
				next.Unlock()
				i := 0
				for pb.Next() {
					if err := live.Act(b.Context(), room, Action{Kind: kinds[i%2], Actor: u}, redisEpoch, l); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}
