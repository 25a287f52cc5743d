package rooms

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// The table of docs/stage.md: every action, by every kind of actor, on
// every kind of target, allowed and refused, on a room with a full cast.

// rulesLimits leave room on stage for one more: the cast has five on it.
var rulesLimits = Limits{StageCap: 6, ReconnectGrace: time.Hour, LeaseTTL: time.Hour, EmptyStageGrace: time.Hour}

// castOrder is the cast of every case, in join order:
//   - creator: the room's creator, a moderator;
//   - mod, mod2: moderators the creator made (invited, accepted, promoted);
//   - speaker, speaker2: speakers (invited, accepted), on stage after mod2;
//   - listener, listener2: listeners;
//   - hand: a listener with a hand up;
//   - invited: a listener the creator invited.
//
// "outsider" and "outsider2" never join.
var castOrder = []string{"creator", "mod", "mod2", "speaker", "speaker2", "listener", "listener2", "hand", "invited"}

// newCast opens a room and brings the cast in through the store itself,
// one second apart, so that everyone went on stage at a distinct time.
func newCast(t *testing.T, live LiveStore, bus Bus) *liveRoom {
	t.Helper()
	r := newLiveRoom(t, live, bus, rulesLimits)
	r.open("creator")
	for _, name := range castOrder {
		r.tick(time.Second)
		r.join(name)
	}
	for _, steps := range [][]ruleAct{
		{act(ActInvite, "creator", "mod"), act(ActAcceptInvite, "mod", ""), act(ActMakeModerator, "creator", "mod")},
		{act(ActInvite, "creator", "mod2"), act(ActAcceptInvite, "mod2", ""), act(ActMakeModerator, "creator", "mod2")},
		{act(ActInvite, "creator", "speaker"), act(ActAcceptInvite, "speaker", "")},
		{act(ActInvite, "creator", "speaker2"), act(ActAcceptInvite, "speaker2", "")},
		{act(ActRaiseHand, "hand", "")},
		{act(ActInvite, "creator", "invited")},
	} {
		for _, a := range steps {
			r.tick(time.Second)
			r.do(a)
		}
	}
	return r
}

// Placeholders in the steps of an outcome, resolved per case.
const (
	theActor  = "@actor"
	theTarget = "@target"
)

// ruleStep is one event an allowed action emits, and what it does to the
// record it is about. Each step takes the next seq.
type ruleStep struct {
	typ      EventType
	who, by  string // cast names or placeholders; by is "" when they acted themselves
	cause    Cause
	edit     func(p *Participant, seq uint64, now time.Time)
	audience bool
	blocked  bool
	hands    bool
}

// ruleOutcome is what an action does: refused with err, or allowed with
// these steps (none: it changes nothing).
type ruleOutcome struct {
	err   error
	steps []ruleStep
	skip  bool // the cell repeats another (the creator is "self" to the creator)
}

func refused(err error) ruleOutcome { return ruleOutcome{err: err} }

func does(steps ...ruleStep) ruleOutcome { return ruleOutcome{steps: steps} }

var (
	unchanged = ruleOutcome{}
	sameCell  = ruleOutcome{skip: true}

	forbidden   = refused(ErrForbidden)
	notInRoom   = refused(ErrNotParticipant)
	notOnStage  = refused(ErrNotOnStage)
	onStage     = refused(ErrAlreadyOnStage)
	notInvited  = refused(ErrNotInvited)
	stageFull   = refused(ErrStageFull)
	handsAreOff = refused(ErrHandsDisabled)
)

func refusedAlike(o ruleOutcome, n int) []ruleOutcome { return slices.Repeat([]ruleOutcome{o}, n) }

// stageUpdate is a participant_updated sent at once.
func stageUpdate(who string, cause Cause, by string, edit func(*Participant, uint64, time.Time)) ruleStep {
	return ruleStep{typ: EventParticipantUpdated, who: who, cause: cause, by: by, edit: edit}
}

// audienceUpdate is a participant_updated of the audience, sent in batches.
func audienceUpdate(who string, cause Cause, edit func(*Participant, uint64, time.Time)) ruleStep {
	return ruleStep{typ: EventParticipantUpdated, who: who, cause: cause, edit: edit, audience: true}
}

func removal(who, by string, blocked bool) ruleStep {
	return ruleStep{typ: EventParticipantLeft, who: who, by: by, blocked: blocked}
}

func handsSwitched(enabled bool) ruleStep { return ruleStep{typ: EventRoomUpdated, hands: enabled} }

// The edits of docs/stage.md's actions.
func editRaise(p *Participant, seq uint64, _ time.Time)  { p.HandSeq = seq }
func editLower(p *Participant, _ uint64, _ time.Time)    { p.HandSeq = 0 }
func editInvite(p *Participant, _ uint64, _ time.Time)   { p.Invited = true }
func editDecline(p *Participant, _ uint64, _ time.Time)  { p.Invited = false }
func editAccept(p *Participant, _ uint64, now time.Time) { *p = asSpeaker(*p, now) }
func editAudience(p *Participant, _ uint64, _ time.Time) {
	*p = asListener(*p) // the hand: a speaker has none
}
func editPromote(p *Participant, _ uint64, _ time.Time) { p.Role = RoleModerator }
func editMute(p *Participant, _ uint64, _ time.Time)    { p.Muted = true }
func editUnmute(p *Participant, _ uint64, _ time.Time)  { p.Muted = false }

// Columns of the matrix: the target relative to the actor.
const (
	colListener  = "listener"
	colSpeaker   = "speaker"
	colModerator = "moderator"
	colCreator   = "creator"
	colSelf      = "self"
	colOutsider  = "outsider"
	colNobody    = "nobody" // no target named
)

var (
	targetCols = []string{colListener, colSpeaker, colModerator, colCreator, colSelf, colOutsider}
	muteCols   = append(slices.Clone(targetCols), colNobody)
	noCols     = []string{colNobody}
	// matrixActors are the rows: every kind of actor.
	matrixActors = []string{"creator", "mod", "speaker", "listener", "outsider"}
)

// castTarget is the cast member in column col for actor: another one of
// the same kind when the actor is one.
func castTarget(col, actor string) string {
	switch col {
	case colListener, colSpeaker, colOutsider:
		if actor == col {
			return col + "2"
		}
		return col
	case colModerator:
		if actor == "mod" {
			return "mod2"
		}
		return "mod"
	case colCreator:
		return "creator"
	case colSelf:
		return actor
	}
	return ""
}

// ruleMatrix is one action: a row of outcomes per actor, one per column.
type ruleMatrix struct {
	kind    ActionKind
	enabled bool // set_hands
	cols    []string
	rows    map[string][]ruleOutcome
}

func ruleMatrices() []ruleMatrix {
	t := theTarget
	a := theActor
	invite := does(stageUpdate(t, CauseInvited, a, editInvite))
	toAudience := does(stageUpdate(t, CauseMovedToAudience, a, editAudience))
	promote := does(stageUpdate(t, CauseMadeModerator, a, editPromote))
	remove := does(removal(t, a, false))
	mute := does(stageUpdate(t, CauseMuted, a, editMute))
	muteSelf := does(stageUpdate(a, CauseMuted, "", editMute))
	stepDown := does(stageUpdate(a, CauseSteppedDown, "", editAudience))
	handsOff := does(handsSwitched(false), stageUpdate("hand", CauseHandsCleared, a, editLower))
	muteAllBy := func(others ...string) ruleOutcome {
		var steps []ruleStep
		for _, o := range others {
			steps = append(steps, stageUpdate(o, CauseMuted, a, editMute))
		}
		return does(steps...)
	}
	return []ruleMatrix{
		{kind: ActRaiseHand, cols: noCols, rows: map[string][]ruleOutcome{
			"creator": {forbidden}, "mod": {forbidden}, "speaker": {forbidden},
			"listener": {does(audienceUpdate(a, CauseHandRaised, editRaise))}, "outsider": {notInRoom},
		}},
		{kind: ActLowerHand, cols: noCols, rows: map[string][]ruleOutcome{
			// Nobody in these rows has a hand up: lowering it changes nothing.
			"creator": {unchanged}, "mod": {unchanged}, "speaker": {unchanged}, "listener": {unchanged}, "outsider": {notInRoom},
		}},
		{kind: ActInvite, cols: targetCols, rows: map[string][]ruleOutcome{
			//          listener   speaker    moderator  creator    self       outsider
			"creator":  {invite, onStage, onStage, sameCell, forbidden, notInRoom},
			"mod":      {invite, onStage, onStage, onStage, forbidden, notInRoom},
			"speaker":  {forbidden, forbidden, forbidden, forbidden, forbidden, notInRoom},
			"listener": {forbidden, forbidden, forbidden, forbidden, forbidden, notInRoom},
			"outsider": refusedAlike(notInRoom, 6),
		}},
		{kind: ActAcceptInvite, cols: noCols, rows: map[string][]ruleOutcome{
			"creator": {notInvited}, "mod": {notInvited}, "speaker": {notInvited}, "listener": {notInvited}, "outsider": {notInRoom},
		}},
		{kind: ActDeclineInvite, cols: noCols, rows: map[string][]ruleOutcome{
			"creator": {notInvited}, "mod": {notInvited}, "speaker": {notInvited}, "listener": {notInvited}, "outsider": {notInRoom},
		}},
		{kind: ActMoveToAudience, cols: targetCols, rows: map[string][]ruleOutcome{
			//          listener    speaker     moderator   creator    self       outsider
			"creator":  {notOnStage, toAudience, toAudience, sameCell, forbidden, notInRoom},
			"mod":      {notOnStage, toAudience, forbidden, forbidden, forbidden, notInRoom},
			"speaker":  {forbidden, forbidden, forbidden, forbidden, forbidden, notInRoom},
			"listener": {forbidden, forbidden, forbidden, forbidden, forbidden, notInRoom},
			"outsider": refusedAlike(notInRoom, 6),
		}},
		{kind: ActMakeModerator, cols: targetCols, rows: map[string][]ruleOutcome{
			//          listener    speaker  moderator  creator    self       outsider
			"creator":  {notOnStage, promote, unchanged, sameCell, forbidden, notInRoom},
			"mod":      {notOnStage, promote, forbidden, forbidden, forbidden, notInRoom},
			"speaker":  {forbidden, forbidden, forbidden, forbidden, forbidden, notInRoom},
			"listener": {forbidden, forbidden, forbidden, forbidden, forbidden, notInRoom},
			"outsider": refusedAlike(notInRoom, 6),
		}},
		{kind: ActRemove, cols: targetCols, rows: map[string][]ruleOutcome{
			//          listener   speaker    moderator  creator    self       outsider
			"creator":  {remove, remove, remove, sameCell, forbidden, notInRoom},
			"mod":      {remove, remove, forbidden, forbidden, forbidden, notInRoom},
			"speaker":  {forbidden, forbidden, forbidden, forbidden, forbidden, notInRoom},
			"listener": {forbidden, forbidden, forbidden, forbidden, forbidden, notInRoom},
			"outsider": refusedAlike(notInRoom, 6),
		}},
		{kind: ActMute, cols: muteCols, rows: map[string][]ruleOutcome{
			// A moderator mutes anyone on stage, the creator included
			// ("mute: a moderator (anyone on stage)"; mute_all spares no one).
			//          listener    speaker    moderator  creator    self        outsider   nobody
			"creator":  {notOnStage, mute, mute, sameCell, muteSelf, notInRoom, muteSelf},
			"mod":      {notOnStage, mute, mute, mute, muteSelf, notInRoom, muteSelf},
			"speaker":  {forbidden, forbidden, forbidden, forbidden, muteSelf, notInRoom, muteSelf},
			"listener": {forbidden, forbidden, forbidden, forbidden, notOnStage, notInRoom, notOnStage},
			"outsider": refusedAlike(notInRoom, 7),
		}},
		{kind: ActUnmute, cols: muteCols, rows: map[string][]ruleOutcome{
			// Nobody in the cast is muted: unmuting oneself changes nothing.
			//          listener   speaker    moderator  creator    self        outsider   nobody
			"creator":  {forbidden, forbidden, forbidden, sameCell, unchanged, notInRoom, unchanged},
			"mod":      {forbidden, forbidden, forbidden, forbidden, unchanged, notInRoom, unchanged},
			"speaker":  {forbidden, forbidden, forbidden, forbidden, unchanged, notInRoom, unchanged},
			"listener": {forbidden, forbidden, forbidden, forbidden, notOnStage, notInRoom, notOnStage},
			"outsider": refusedAlike(notInRoom, 7),
		}},
		{kind: ActMuteAll, cols: noCols, rows: map[string][]ruleOutcome{
			// Everyone on stage but the actor, in join order.
			"creator":  {muteAllBy("mod", "mod2", "speaker", "speaker2")},
			"mod":      {muteAllBy("creator", "mod2", "speaker", "speaker2")},
			"speaker":  {forbidden},
			"listener": {forbidden},
			"outsider": {notInRoom},
		}},
		{kind: ActSetHands, enabled: false, cols: noCols, rows: map[string][]ruleOutcome{
			"creator": {handsOff}, "mod": {handsOff}, "speaker": {forbidden}, "listener": {forbidden}, "outsider": {notInRoom},
		}},
		{kind: ActStepDown, cols: noCols, rows: map[string][]ruleOutcome{
			// Moderators remain after any one steps down: no succession.
			"creator": {stepDown}, "mod": {stepDown}, "speaker": {stepDown}, "listener": {notOnStage}, "outsider": {notInRoom},
		}},
	}
}

// ruleCase is one row of the table.
type ruleCase struct {
	name  string
	setup []ruleAct // done first; each must succeed
	act   ruleAct
	want  ruleOutcome
}

var (
	actorPhrase = map[string]string{
		"creator": "the creator", "mod": "a moderator", "speaker": "a speaker", "listener": "a listener",
		"outsider": "someone not in the room",
	}
	targetPhrase = map[string]string{
		colListener: "a listener", colSpeaker: "a speaker", colModerator: "a moderator", colCreator: "the creator",
		colSelf: "themselves", colOutsider: "someone not in the room",
	}
	verbPhrase = map[ActionKind]string{
		ActRaiseHand: "raises a hand", ActLowerHand: "lowers a hand that is not up",
		ActInvite: "invites %s", ActAcceptInvite: "accepts an invitation that was never made",
		ActDeclineInvite: "declines an invitation that was never made", ActMoveToAudience: "moves %s to the audience",
		ActMakeModerator: "makes %s a moderator", ActRemove: "removes %s", ActMute: "mutes %s", ActUnmute: "unmutes %s",
		ActMuteAll: "mutes all", ActSetHands: "turns hands off", ActStepDown: "steps down",
	}
)

func (o ruleOutcome) suffix() string {
	switch {
	case o.err != nil:
		return ": " + o.err.Error()
	case len(o.steps) == 0:
		return ", which changes nothing"
	}
	return ""
}

// matrixCases expands the matrices into cases, and fails the test if any
// action, actor or column is missing: the table covers every combination.
func matrixCases(t *testing.T) []ruleCase {
	t.Helper()
	var cases []ruleCase
	seen := make(map[ActionKind]bool)
	for _, m := range ruleMatrices() {
		seen[m.kind] = true
		if len(m.rows) != len(matrixActors) {
			t.Errorf("%s: %d rows, want one per actor %v", m.kind, len(m.rows), matrixActors)
		}
		for _, actor := range matrixActors {
			row, ok := m.rows[actor]
			if !ok || len(row) != len(m.cols) {
				t.Errorf("%s by %s: %d outcomes, want %d", m.kind, actor, len(row), len(m.cols))
				continue
			}
			for i, col := range m.cols {
				o := row[i]
				if o.skip {
					continue
				}
				a := ruleAct{kind: m.kind, actor: actor, target: castTarget(col, actor), enabled: m.enabled}
				verb := verbPhrase[m.kind]
				switch {
				case col == colNobody && m.kind.NeedsTarget():
					t.Fatalf("%s needs a target", m.kind)
				case col == colNobody && (m.kind == ActMute || m.kind == ActUnmute):
					verb = fmt.Sprintf(verb, "without naming anyone")
				case col != colNobody:
					phrase := targetPhrase[col]
					switch {
					case col == colOutsider && actor == "outsider":
						phrase = "someone else not in the room"
					case col == actor || (col == colModerator && actor == "mod"):
						phrase = "another " + col
					}
					verb = fmt.Sprintf(verb, phrase)
				}
				cases = append(cases, ruleCase{name: actorPhrase[actor] + " " + verb + o.suffix(), act: a, want: o})
			}
		}
	}
	for _, k := range Actions {
		if !seen[k] {
			t.Errorf("the table has no matrix for %s", k)
		}
	}
	return cases
}

// stateCases are the rows that need a room in some other state than the
// plain cast: hands up, invitations, mutes, a full stage, hands off.
func stateCases() []ruleCase {
	fill := act(ActAcceptInvite, "invited", "") // the sixth on stage: full
	handsOff := act(ActSetHands, "creator", "")
	return []ruleCase{
		// Hands.
		{name: "a listener whose hand is up raises it again, which changes nothing", act: act(ActRaiseHand, "hand", ""), want: unchanged},
		{name: "an invited listener may raise a hand", act: act(ActRaiseHand, "invited", ""),
			want: does(audienceUpdate(theActor, CauseHandRaised, editRaise))},
		{name: "a listener raising a hand while hands are off: hand-raising is turned off", setup: []ruleAct{handsOff},
			act: act(ActRaiseHand, "listener", ""), want: handsAreOff},
		{name: "a speaker raising a hand while hands are off is forbidden first", setup: []ruleAct{handsOff},
			act: act(ActRaiseHand, "speaker", ""), want: forbidden},
		{name: "a listener lowers their hand", act: act(ActLowerHand, "hand", ""),
			want: does(audienceUpdate(theActor, CauseHandLowered, editLower))},
		{name: "turning hands off lowers every hand, after the room_updated",
			setup: []ruleAct{act(ActRaiseHand, "invited", "")}, act: act(ActSetHands, "mod", ""),
			want: does(handsSwitched(false), stageUpdate("hand", CauseHandsCleared, theActor, editLower),
				stageUpdate("invited", CauseHandsCleared, theActor, editLower))},
		{name: "turning hands on while they are on changes nothing", act: ruleAct{kind: ActSetHands, actor: "mod", enabled: true}, want: unchanged},
		{name: "turning hands off while they are off changes nothing", setup: []ruleAct{handsOff},
			act: act(ActSetHands, "mod", ""), want: unchanged},
		{name: "turning hands back on raises no hand", setup: []ruleAct{handsOff},
			act: ruleAct{kind: ActSetHands, actor: "mod", enabled: true}, want: does(handsSwitched(true))},
		// Invitations.
		{name: "a moderator invites a listener whose hand is up, and the hand stays up", act: act(ActInvite, "mod", "hand"),
			want: does(stageUpdate(theTarget, CauseInvited, theActor, editInvite))},
		{name: "inviting the invited changes nothing", act: act(ActInvite, "mod", "invited"), want: unchanged},
		{name: "inviting while the stage is full: the stage is full", setup: []ruleAct{fill},
			act: act(ActInvite, "mod", "listener"), want: stageFull},
		// "Refusals are checked first: an action the rules refuse is refused
		// even when it would change nothing."
		{name: "inviting the invited while the stage is full: the stage is full, refusals first",
			setup: []ruleAct{act(ActInvite, "creator", "listener"), fill}, act: act(ActInvite, "mod", "listener"), want: stageFull},
		{name: "an invited listener accepts and is on stage, unmuted", act: act(ActAcceptInvite, "invited", ""),
			want: does(stageUpdate(theActor, CauseInviteAccepted, "", editAccept))},
		{name: "accepting takes a raised hand down", setup: []ruleAct{act(ActInvite, "creator", "hand")},
			act: act(ActAcceptInvite, "hand", ""), want: does(stageUpdate(theActor, CauseInviteAccepted, "", editAccept))},
		{name: "accepting while the stage is full is refused and the invitation stays",
			setup: []ruleAct{act(ActInvite, "creator", "hand"), fill}, act: act(ActAcceptInvite, "hand", ""), want: stageFull},
		{name: "an invited listener declines", act: act(ActDeclineInvite, "invited", ""),
			want: does(stageUpdate(theActor, CauseInviteDeclined, "", editDecline))},
		{name: "declining twice: no invitation to speak", setup: []ruleAct{act(ActDeclineInvite, "invited", "")},
			act: act(ActDeclineInvite, "invited", ""), want: notInvited},
		// Mutes.
		{name: "a muted speaker unmutes themselves", setup: []ruleAct{act(ActMute, "speaker", "")},
			act: act(ActUnmute, "speaker", ""), want: does(stageUpdate(theActor, CauseUnmuted, "", editUnmute))},
		{name: "a speaker a moderator muted may unmute themselves", setup: []ruleAct{act(ActMute, "mod", "speaker")},
			act: act(ActUnmute, "speaker", ""), want: does(stageUpdate(theActor, CauseUnmuted, "", editUnmute))},
		{name: "the creator, muted by a moderator, unmutes themselves", setup: []ruleAct{act(ActMute, "mod", "creator")},
			act: act(ActUnmute, "creator", "creator"), want: does(stageUpdate(theActor, CauseUnmuted, "", editUnmute))},
		{name: "a moderator cannot unmute a muted speaker: forbidden", setup: []ruleAct{act(ActMute, "speaker", "")},
			act: act(ActUnmute, "mod", "speaker"), want: forbidden},
		{name: "the creator cannot unmute a muted moderator: forbidden", setup: []ruleAct{act(ActMute, "mod", "")},
			act: act(ActUnmute, "creator", "mod"), want: forbidden},
		{name: "muting the muted changes nothing", setup: []ruleAct{act(ActMute, "speaker", "")},
			act: act(ActMute, "mod", "speaker"), want: unchanged},
		{name: "mute all passes over those already muted", setup: []ruleAct{act(ActMute, "speaker", "")},
			act: act(ActMuteAll, "creator", ""), want: does(stageUpdate("mod", CauseMuted, theActor, editMute),
				stageUpdate("mod2", CauseMuted, theActor, editMute), stageUpdate("speaker2", CauseMuted, theActor, editMute))},
		{name: "mute all when all are muted changes nothing", setup: []ruleAct{act(ActMuteAll, "creator", "")},
			act: act(ActMuteAll, "creator", ""), want: unchanged},
		// Moving people.
		{name: "moving a muted speaker to the audience lifts the mute", setup: []ruleAct{act(ActMute, "speaker", "")},
			act: act(ActMoveToAudience, "mod", "speaker"), want: does(stageUpdate(theTarget, CauseMovedToAudience, theActor, editAudience))},
		{name: "a muted speaker made a moderator stays muted", setup: []ruleAct{act(ActMute, "speaker", "")},
			act: act(ActMakeModerator, "mod", "speaker"), want: does(stageUpdate(theTarget, CauseMadeModerator, theActor, editPromote))},
		{name: "a muted speaker steps down and the mute goes", setup: []ruleAct{act(ActMute, "speaker", "")},
			act: act(ActStepDown, "speaker", ""), want: does(stageUpdate(theActor, CauseSteppedDown, "", editAudience))},
		{name: "a moderator removes and blocks a listener with a hand up",
			act: ruleAct{kind: ActRemove, actor: "mod", target: "hand", block: true}, want: does(removal(theTarget, theActor, true))},
		{name: "the creator removes and blocks a moderator",
			act: ruleAct{kind: ActRemove, actor: "creator", target: "mod", block: true}, want: does(removal(theTarget, theActor, true))},
		// The creator who stepped down: invited, muted and promoted like
		// anyone, never demoted or removed.
		{name: "a moderator invites the creator who stepped down", setup: []ruleAct{act(ActStepDown, "creator", "")},
			act: act(ActInvite, "mod", "creator"), want: does(stageUpdate(theTarget, CauseInvited, theActor, editInvite))},
		{name: "a moderator makes the creator, back on stage as a speaker, a moderator",
			setup: []ruleAct{act(ActStepDown, "creator", ""), act(ActInvite, "mod", "creator"), act(ActAcceptInvite, "creator", "")},
			act:   act(ActMakeModerator, "mod", "creator"), want: does(stageUpdate(theTarget, CauseMadeModerator, theActor, editPromote))},
		{name: "a moderator cannot move the creator, back on stage as a speaker, to the audience: forbidden",
			setup: []ruleAct{act(ActStepDown, "creator", ""), act(ActInvite, "mod", "creator"), act(ActAcceptInvite, "creator", "")},
			act:   act(ActMoveToAudience, "mod", "creator"), want: forbidden},
		{name: "a moderator cannot remove the creator who stepped down: forbidden", setup: []ruleAct{act(ActStepDown, "creator", "")},
			act: act(ActRemove, "mod", "creator"), want: forbidden},
		{name: "a moderator mutes the creator, back on stage as a speaker",
			setup: []ruleAct{act(ActStepDown, "creator", ""), act(ActInvite, "mod", "creator"), act(ActAcceptInvite, "creator", "")},
			act:   act(ActMute, "mod", "creator"), want: does(stageUpdate(theTarget, CauseMuted, theActor, editMute))},
		// Succession.
		{name: "the last moderator steps down and the speaker longest on stage succeeds",
			setup: []ruleAct{act(ActMoveToAudience, "creator", "mod"), act(ActRemove, "creator", "mod2")},
			act:   act(ActStepDown, "creator", ""),
			want: does(stageUpdate(theActor, CauseSteppedDown, "", editAudience),
				stageUpdate("speaker", CauseSuccession, "", editPromote))},
	}
}

func testRules(t *testing.T, live LiveStore, bus Bus) {
	cases := append(matrixCases(t), stateCases()...)
	names := make(map[string]bool)
	for _, c := range cases {
		if names[c.name] {
			t.Errorf("two cases are called %q", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) { runRuleCase(t, live, bus, c) })
	}
}

// runRuleCase checks one row: a refusal with its sentinel, leaving the
// room exactly as it was and emitting nothing; or the exact records and
// events the steps describe, one seq each.
func runRuleCase(t *testing.T, live LiveStore, bus Bus, c ruleCase) {
	r := newCast(t, live, bus)
	for _, a := range c.setup {
		r.tick(time.Second)
		r.do(a)
	}
	r.log.take()
	before := r.snapshot()
	r.tick(time.Second)
	err := r.try(c.act)
	after := r.snapshot()
	got := r.log.take()

	if c.want.err != nil {
		if !errors.Is(err, c.want.err) {
			t.Errorf("%s: err = %v, want %v", c.act, err, c.want.err)
		}
		r.checkSnapshot("after a refusal", after, before)
		r.checkEvents("after a refusal", got, nil)
		return
	}
	if err != nil {
		t.Fatalf("%s: %v", c.act, err)
	}
	want, wantEvents := r.applySteps(before, c.act, c.want.steps)
	r.checkEvents(c.act.String(), got, wantEvents)
	r.checkSnapshot(c.act.String(), after, want)
}

// applySteps is what the steps make of the snapshot, and their events.
func (r *liveRoom) applySteps(s Snapshot, a ruleAct, steps []ruleStep) (Snapshot, []Event) {
	r.t.Helper()
	resolve := func(name string) string {
		switch name {
		case theActor:
			return a.actor
		case theTarget:
			return a.target
		}
		return name
	}
	s.Participants = slices.Clone(s.Participants)
	var evs []Event
	for _, st := range steps {
		s.Seq++
		if st.typ == EventRoomUpdated {
			s.HandsEnabled = st.hands
			evs = append(evs, r.evHands(s.Seq, st.hands))
			continue
		}
		id := r.user(resolve(st.who))
		i := slices.IndexFunc(s.Participants, func(p Participant) bool { return p.UserID == id })
		if i < 0 {
			r.t.Fatalf("a step is about %s, who is not in the room", resolve(st.who))
		}
		switch st.typ {
		case EventParticipantUpdated:
			st.edit(&s.Participants[i], s.Seq, r.now)
			evs = append(evs, r.evUpdated(s.Seq, s.Participants[i], st.cause, resolve(st.by), st.audience))
		case EventParticipantLeft:
			evs = append(evs, r.evLeft(s.Seq, s.Participants[i], ReasonRemoved, resolve(st.by), st.blocked, false))
			s.Participants = slices.Delete(s.Participants, i, i+1)
		}
	}
	return s, evs
}
