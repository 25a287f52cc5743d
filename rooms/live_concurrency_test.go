package rooms

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// testLiveConcurrency has 200 listeners raise and lower hands, accept
// invitations and step down, while three moderators invite and move
// speakers back to the audience, all at once. Then the room must be whole
// (one record each, no two hands in one place, nobody on stage with a
// hand or an invitation, the stage within its cap, counts that agree) and
// the bus must have delivered every seq from 1 to the room's, once each,
// in order, describing exactly the state the store ended in.
func testLiveConcurrency(t *testing.T, live LiveStore, bus Bus) {
	const listeners, rounds, modRounds = 200, 4, 30
	l := Limits{StageCap: 6, ReconnectGrace: time.Hour, LeaseTTL: time.Hour, EmptyStageGrace: time.Hour}
	r := newLiveRoom(t, live, bus, l)
	r.open("creator")
	r.join("creator")
	mods := []string{"creator", "mod1", "mod2"}
	for _, m := range mods[1:] {
		r.join(m)
		r.onStage("creator", m)
		r.do(act(ActMakeModerator, "creator", m))
	}
	names := make([]string, listeners)
	for i := range names {
		names[i] = fmt.Sprintf("l%03d", i)
		r.join(names[i])
	}
	r.tick(time.Second)
	// The goroutines share no fixture state: IDs are resolved here.
	ctx, now, room := t.Context(), r.now, r.id
	ids := make([]UserID, listeners)
	for i, n := range names {
		ids[i] = r.user(n)
	}
	try := func(a Action, allowed ...error) bool {
		err := live.Act(ctx, room, a, now, l)
		if err == nil {
			return true
		}
		for _, ok := range allowed {
			if errors.Is(err, ok) {
				return false
			}
		}
		t.Errorf("%s by %s: %v", a.Kind, r.who(a.Actor), err)
		return false
	}

	// The moderators keep at it until every listener is done, so that
	// demotions overlap accepts however fast either side runs.
	var wg, listening sync.WaitGroup
	listenersDone := make(chan struct{})
	for i, id := range ids {
		listening.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for range rounds {
				try(Action{Kind: ActRaiseHand, Actor: id}, ErrForbidden) // forbidden on stage
				if rng.IntN(4) == 0 {
					try(Action{Kind: ActDeclineInvite, Actor: id}, ErrNotInvited)
				}
				accepted := try(Action{Kind: ActAcceptInvite, Actor: id}, ErrNotInvited, ErrStageFull)
				try(Action{Kind: ActLowerHand, Actor: id})
				if !accepted && rng.IntN(3) == 0 {
					try(Action{Kind: ActStepDown, Actor: id}, ErrNotOnStage)
				}
			}
		})
	}
	for i, m := range mods {
		actor := r.user(m)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 2))
			for round := 0; ; round++ {
				if round >= modRounds {
					select {
					case <-listenersDone:
						return
					default:
					}
				}
				s, err := live.Snapshot(ctx, room)
				if err != nil {
					t.Errorf("Snapshot: %v", err)
					return
				}
				var hands, speakers []UserID
				for _, p := range s.Participants {
					switch {
					case p.Role == RoleSpeaker:
						speakers = append(speakers, p.UserID)
					case p.HandSeq != 0:
						hands = append(hands, p.UserID)
					}
				}
				target := ids[rng.IntN(len(ids))]
				if len(hands) > 0 {
					target = hands[rng.IntN(len(hands))]
				}
				try(Action{Kind: ActInvite, Actor: actor, Target: target}, ErrAlreadyOnStage, ErrStageFull)
				if len(speakers) > 0 && rng.IntN(2) == 0 {
					// Someone else may have moved them already.
					try(Action{Kind: ActMoveToAudience, Actor: actor, Target: speakers[rng.IntN(len(speakers))]}, ErrNotOnStage)
				}
			}
		})
	}
	listening.Wait()
	close(listenersDone)
	wg.Wait()
	if t.Failed() {
		return
	}

	evs := r.log.all()
	final := r.snapshot()
	checkGaplessReplay(t, r, evs, final)
	checkWholeStage(t, r, final, evs)
	causes := make(map[Cause]int)
	for _, ev := range evs {
		causes[ev.Cause]++
	}
	// Step-downs compete with demotions for the same speakers: they are in
	// the mix but not required.
	for _, c := range []Cause{CauseHandRaised, CauseHandLowered, CauseInvited, CauseInviteAccepted, CauseMovedToAudience} {
		if causes[c] == 0 {
			t.Errorf("no %s event: the workload did not exercise what it should (%v)", c, causes)
		}
	}
}

// checkGaplessReplay checks that the events are seqs 1..final.Seq in order,
// that replaying them gives the final snapshot, and that the stage never
// went over its cap on the way.
func checkGaplessReplay(t *testing.T, r *liveRoom, evs []Event, final Snapshot) {
	t.Helper()
	model := make(map[UserID]Participant)
	over := false
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d of %d has seq %d, want %d: a gap, a repeat or out of order\n%s",
				i+1, len(evs), ev.Seq, i+1, r.showEvent(ev))
		}
		switch ev.Type {
		case EventParticipantJoined:
			if _, ok := model[ev.Participant.UserID]; ok {
				t.Errorf("%s: joined twice", r.showEvent(ev))
			}
			model[ev.Participant.UserID] = ev.Participant
		case EventParticipantUpdated:
			if _, ok := model[ev.Participant.UserID]; !ok {
				t.Errorf("%s: an update of someone not in the room", r.showEvent(ev))
			}
			model[ev.Participant.UserID] = ev.Participant
		case EventParticipantLeft:
			delete(model, ev.Participant.UserID)
		case EventRoomUpdated:
		default:
			t.Errorf("unexpected %s", r.showEvent(ev))
		}
		n := 0
		for _, p := range model {
			if p.Role.OnStage() {
				n++
			}
		}
		if n > r.limits.StageCap && !over {
			over = true
			t.Errorf("after %s the stage holds %d, over the cap of %d", r.showEvent(ev), n, r.limits.StageCap)
		}
	}
	if final.Seq != uint64(len(evs)) {
		t.Errorf("the room is at seq %d but the bus delivered %d events", final.Seq, len(evs))
	}
	if len(model) != len(final.Participants) {
		t.Errorf("replaying the events gives %d participants, the snapshot has %d", len(model), len(final.Participants))
	}
	for _, p := range final.Participants {
		if m, ok := model[p.UserID]; !ok || r.showParticipant(m) != r.showParticipant(p) {
			t.Errorf("the events say\n  %s\nthe snapshot says\n  %s", r.showParticipant(m), r.showParticipant(p))
		}
	}
}

// checkWholeStage checks the invariants of a room's records.
func checkWholeStage(t *testing.T, r *liveRoom, s Snapshot, evs []Event) {
	t.Helper()
	raisedBy := make(map[uint64]UserID)
	for _, ev := range evs {
		if ev.Cause == CauseHandRaised {
			raisedBy[ev.Seq] = ev.Participant.UserID
		}
	}
	seen := make(map[UserID]bool)
	places := make(map[uint64]UserID)
	var stage int
	for _, p := range s.Participants {
		show := r.showParticipant(p)
		if seen[p.UserID] {
			t.Errorf("%s appears twice", show)
		}
		seen[p.UserID] = true
		if p.Role.OnStage() {
			stage++
			if p.HandSeq != 0 || p.Invited {
				t.Errorf("%s is on stage with a hand up or an invitation", show)
			}
		} else if p.Muted || p.Role != RoleListener {
			t.Errorf("%s is off stage but muted or with another role", show)
		}
		if p.HandSeq != 0 {
			if other, ok := places[p.HandSeq]; ok {
				t.Errorf("%s shares a place in the queue with %s", show, r.who(other))
			}
			places[p.HandSeq] = p.UserID
			if raisedBy[p.HandSeq] != p.UserID {
				t.Errorf("%s holds place %d, which is not the seq of their hand_raised", show, p.HandSeq)
			}
		}
	}
	if stage > r.limits.StageCap {
		t.Errorf("%d on stage, over the cap of %d", stage, r.limits.StageCap)
	}
	if c := r.counts(); c != (Counts{Speakers: stage, Listeners: len(s.Participants) - stage}) {
		t.Errorf("Counts = %+v, the snapshot has %d on stage and %d listening", c, stage, len(s.Participants)-stage)
	}
}
