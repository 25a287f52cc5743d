// Unit tests of the room session's handling of signaling (room.js), with a
// fake socket and a fake PeerConnection. Run by web_test.go with
// `node --test`; no browser needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomSession } from '../static/room.js';

const ROOM = 'rm_test';
const ANN = { user_id: 'usr_ann', display_name: 'Ann', role: 'moderator', joined_at: '', muted: false, invited: false, hand_raised_seq: 0 };
const BOB = { user_id: 'usr_bob', display_name: 'Bob', role: 'listener', joined_at: '', muted: false, invited: false, hand_raised_seq: 0 };
const CY = { user_id: 'usr_cy', display_name: 'Cy', role: 'listener', joined_at: '', muted: false, invited: false, hand_raised_seq: 0 };

class FakeSignal {
  constructor() {
    this.sent = [];
    this.nextId = 1;
    this.open = true;
    this.closed = false;
  }
  send(type, payload = {}) {
    const id = String(this.nextId++);
    this.sent.push({ type, id, payload });
    return id;
  }
  close() { this.closed = true; this.open = false; }
  last(type) { return this.sent.filter((m) => m.type === type).at(-1); }
}

class FakeRtc {
  constructor(opts) {
    this.opts = opts;
    this.state = 'new';
    this.sending = null;
    this.muted = null;
    this.hasMic = false;
    this.closed = false;
    this.offerId = null;
    this.micError = null;
  }
  start(send) { this.sending = send; this.hasMic = send; return Promise.resolve(); }
  setSending(send) { this.sending = send; this.hasMic = send; }
  setMuted(m) { this.muted = m; }
  retryMic() { return Promise.resolve(false); }
  close() { this.closed = true; }
  onOffer() {}
  onAnswer() {}
  onCandidate() {}
  onOfferRefused() {}
}

/** A session joined to ROOM as `self`, with everyone in `participants`. */
function joined(self, participants, extra = {}) {
  const log = { notices: [], errors: [], ends: [], updates: 0 };
  let rtc = null;
  let signal = null;
  const s = new RoomSession({
    roomId: ROOM,
    token: 't',
    sink: null,
    hooks: {
      onUpdate: () => { log.updates++; },
      onStatus: () => {},
      onError: (code, message) => log.errors.push({ code, message }),
      onNotice: (text) => log.notices.push(text),
      onEnd: (e) => log.ends.push(e),
      onAuthFailed: () => {},
      onAutoplayBlocked: () => {},
    },
    makeRtc: (o) => (rtc = new FakeRtc(o)),
    makeSignal: () => (signal = new FakeSignal()),
  });
  s.start();
  s.handle({ type: 'welcome', payload: { ping_interval_ms: 1e9 } });
  const join = signal.last('join');
  s.handle({
    type: 'joined', reply_to: join.id, seq: 10,
    payload: {
      room: { id: ROOM, title: 'T', created_by: { id: ANN.user_id, display_name: 'Ann' } },
      self, participants, speaking: [], hands_enabled: true, stage_cap: 3, ...extra,
    },
  });
  const t = { s, log, get rtc() { return rtc; }, get signal() { return signal; } };
  return t;
}

const updated = (seq, participant, cause, by) => ({ type: 'participant_updated', seq, payload: { participant, cause, ...(by ? { by } : {}) } });

test('joined: snapshot, hands and cap, media as a listener', async () => {
  const { s, rtc } = joined(BOB, [ANN, BOB], { hands_enabled: false });
  assert.equal(s.phase, 'joined');
  assert.equal(s.seq, 10);
  assert.equal(s.handsEnabled, false);
  assert.equal(s.stageCap, 3);
  assert.deepEqual([...s.participants.keys()], ['usr_ann', 'usr_bob']);
  assert.equal(rtc.sending, false);
  assert.equal(s.isCreator, false);
  s.finish();
});

test('an invitation, accepted: on stage with the microphone, no rejoin', async () => {
  const t = joined(BOB, [ANN, BOB]);
  const { s } = t;
  s.handle(updated(11, { ...BOB, invited: true }, 'invited', ANN.user_id));
  assert.equal(s.invited, true);
  assert.equal(s.invitedBy, 'Ann');
  assert.deepEqual(t.log.notices, ['Ann invited you to speak.']);

  const accepted = s.act('accept_invite');
  const msg = t.signal.last('accept_invite');
  assert.deepEqual(msg.payload, {});
  s.handle({ type: 'ok', reply_to: msg.id, payload: {} });
  await accepted;
  s.handle(updated(12, { ...BOB, role: 'speaker' }, 'invite_accepted'));
  assert.equal(s.onStage, true);
  assert.equal(s.invited, false);
  assert.equal(t.rtc.sending, true, 'the microphone goes on the existing PeerConnection');
  assert.equal(t.signal.sent.filter((m) => m.type === 'join').length, 1, 'no rejoin');

  s.handle(updated(13, { ...BOB, role: 'listener' }, 'moved_to_audience', ANN.user_id));
  assert.equal(t.rtc.sending, false);
  assert.ok(t.log.notices.includes('Ann moved you to the audience.'));
  s.finish();
});

test('muted by a moderator: the track goes off, and we know who', () => {
  const t = joined({ ...BOB, role: 'speaker' }, [ANN, { ...BOB, role: 'speaker' }]);
  const { s } = t;
  assert.equal(s.muted, false);
  s.handle(updated(11, { ...BOB, role: 'speaker', muted: true }, 'muted', ANN.user_id));
  assert.equal(s.muted, true);
  assert.equal(t.rtc.muted, true);
  assert.equal(s.mutedBy, 'Ann');
  s.handle(updated(12, { ...BOB, role: 'speaker', muted: false }, 'unmuted'));
  assert.equal(s.muted, false);
  assert.equal(t.rtc.muted, false);
  assert.equal(s.mutedBy, '');
  s.finish();
});

test('our own mute is at once and goes to the server; a refusal undoes it', async () => {
  const t = joined({ ...BOB, role: 'speaker' }, [ANN, { ...BOB, role: 'speaker' }]);
  const { s } = t;
  const p = s.setMuted(true);
  assert.equal(s.muted, true, 'optimistic');
  assert.equal(t.rtc.muted, true);
  const m = t.signal.last('mute');
  assert.deepEqual(m.payload, {});
  s.handle({ type: 'error', reply_to: m.id, payload: { code: 'not_on_stage', message: 'not on stage' } });
  await p;
  assert.equal(s.muted, false);
  assert.equal(t.rtc.muted, false);
  assert.equal(t.log.errors.at(-1).code, 'not_on_stage');
  s.finish();
});

test('act: ok resolves, error rejects with its code and is reported once', async () => {
  const t = joined(ANN, [ANN, BOB]);
  const { s } = t;
  const ok = s.act('invite', { user_id: BOB.user_id });
  s.handle({ type: 'ok', reply_to: t.signal.last('invite').id });
  assert.deepEqual(await ok, {});
  const bad = s.act('invite', { user_id: BOB.user_id });
  s.handle({ type: 'error', reply_to: t.signal.last('invite').id, payload: { code: 'stage_full', message: 'the stage is full' } });
  await assert.rejects(bad, (e) => e.code === 'stage_full');
  assert.equal(t.log.errors.length, 1);
  assert.match(t.log.errors[0].message, /stage is full/i);
  // An error for nothing we sent is still reported, and breaks nothing.
  s.handle({ type: 'error', reply_to: '999', payload: { code: 'forbidden', message: 'forbidden' } });
  assert.equal(s.phase, 'joined');
  s.finish();
});

test('act: a socket that closes fails the actions in flight', async () => {
  const t = joined(ANN, [ANN, BOB]);
  const p = t.s.act('mute_all');
  t.s.onSocketClosed({ code: 1006 });
  await assert.rejects(p, (e) => e.code === 'not_connected');
  t.s.finish();
});

test('events batch: applied in order, with seq checks', () => {
  const t = joined(ANN, [ANN]);
  const { s } = t;
  s.handle({
    type: 'events', payload: {
      events: [
        { type: 'participant_joined', seq: 9, payload: { participant: { ...CY, display_name: 'stale' } } },
        { type: 'participant_joined', seq: 11, payload: { participant: BOB } },
        { type: 'participant_joined', seq: 12, payload: { participant: CY } },
        updated(13, { ...CY, hand_raised_seq: 13 }, 'hand_raised'),
        updated(14, { ...BOB, hand_raised_seq: 14 }, 'hand_raised'),
      ],
    },
  });
  assert.equal(s.seq, 14);
  assert.equal(s.participants.get(CY.user_id).display_name, 'Cy');
  assert.deepEqual(s.hands.map((p) => p.user_id), ['usr_cy', 'usr_bob']);
  s.handle({ type: 'events', payload: { events: [updated(15, { ...CY }, 'hand_lowered'), { type: 'participant_left', seq: 16, payload: { user_id: BOB.user_id, reason: 'left' } }] } });
  assert.deepEqual(s.hands, []);
  assert.equal(s.participants.has(BOB.user_id), false);
  s.finish();
});

test('a gap inside a batch resyncs with a join of the same room and skips the rest', () => {
  const t = joined(ANN, [ANN]);
  const { s } = t;
  s.handle({
    type: 'events', payload: {
      events: [
        { type: 'participant_joined', seq: 11, payload: { participant: BOB } },
        { type: 'participant_joined', seq: 13, payload: { participant: CY } },
        { type: 'participant_left', seq: 14, payload: { user_id: BOB.user_id, reason: 'left' } },
      ],
    },
  });
  assert.equal(s.phase, 'resyncing');
  assert.equal(s.participants.has(BOB.user_id), true);
  assert.equal(s.participants.has(CY.user_id), false);
  const joins = t.signal.sent.filter((m) => m.type === 'join');
  assert.equal(joins.length, 2);
  assert.deepEqual(joins[1].payload, { room_id: ROOM });
  const rtc = t.rtc;
  s.handle({
    type: 'joined', reply_to: joins[1].id, seq: 14,
    payload: { room: s.room, self: ANN, participants: [ANN, CY], speaking: [], hands_enabled: true, stage_cap: 3 },
  });
  assert.equal(s.phase, 'joined');
  assert.equal(t.rtc, rtc, 'media kept');
  assert.equal(rtc.closed, false);
  assert.deepEqual([...s.participants.keys()], ['usr_ann', 'usr_cy']);
  s.finish();
});

test('removed: the visit ends, saying so; blocked says you cannot rejoin', () => {
  for (const blocked of [false, true]) {
    const t = joined(BOB, [ANN, BOB]);
    t.s.handle({ type: 'participant_left', seq: 11, payload: { user_id: BOB.user_id, reason: 'removed', blocked, by: ANN.user_id } });
    assert.equal(t.s.phase, 'done');
    assert.equal(t.log.ends.length, 1);
    assert.match(t.log.ends[0].message, /A moderator removed you from the room/);
    assert.equal(/can't rejoin/.test(t.log.ends[0].message), blocked);
    assert.equal(t.rtc.closed, true);
    assert.equal(t.s.rtc, null);
    assert.equal(t.signal.closed, true);
  }
});

test('someone else removed: gone from the lists', () => {
  const t = joined(ANN, [ANN, BOB]);
  t.s.handle({ type: 'participant_left', seq: 11, payload: { user_id: BOB.user_id, reason: 'removed', blocked: true, by: ANN.user_id } });
  assert.equal(t.s.participants.has(BOB.user_id), false);
  assert.equal(t.s.phase, 'joined');
  t.s.finish();
});

test('room_updated: hands off and on', () => {
  const t = joined(BOB, [ANN, BOB]);
  t.s.handle({ type: 'room_updated', seq: 11, payload: { hands_enabled: false } });
  assert.equal(t.s.handsEnabled, false);
  assert.deepEqual(t.log.notices, ['Hand-raising is turned off.']);
  t.s.handle({ type: 'room_updated', seq: 12, payload: { hands_enabled: true } });
  assert.equal(t.s.handsEnabled, true);
  t.s.finish();
});

test('raising a hand shows at once; the batched event confirms it', async () => {
  const t = joined(BOB, [ANN, BOB]);
  const { s } = t;
  const p = s.toggleHand();
  assert.equal(s.handUp, true);
  s.handle({ type: 'ok', reply_to: t.signal.last('raise_hand').id });
  await p;
  assert.equal(s.handUp, true, 'still up while the batch is on its way');
  s.handle({ type: 'events', payload: { events: [updated(11, { ...BOB, hand_raised_seq: 11 }, 'hand_raised')] } });
  assert.equal(s.pending.hand, null);
  assert.equal(s.handUp, true);
  assert.deepEqual(s.hands.map((x) => x.user_id), ['usr_bob']);
  s.finish();
});

test('the microphone refused on stage: stay on stage, muted on the server', () => {
  const t = joined({ ...BOB, role: 'speaker' }, [ANN, { ...BOB, role: 'speaker' }]);
  t.rtc.hasMic = false;
  t.rtc.opts.onError('mic', new Error('Permission denied'));
  assert.equal(t.log.errors.at(-1).code, 'microphone');
  assert.ok(t.signal.last('mute'), 'asks the server to mute us');
  assert.equal(t.s.muted, true);
  assert.equal(t.s.onStage, true);
  t.s.finish();
});

test('room_ended after our own end_room says we ended it', async () => {
  const t = joined(ANN, [ANN]);
  const p = t.s.endRoom();
  t.s.handle({ type: 'ok', reply_to: t.signal.last('end_room').id });
  await p;
  t.s.handle({ type: 'room_ended', seq: 11, payload: { room_id: ROOM, reason: 'ended_by_host' } });
  assert.equal(t.log.ends[0].message, 'You ended the room.');
});

test('renders once per batch', async () => {
  const t = joined(ANN, [ANN]);
  await Promise.resolve();
  const before = t.log.updates;
  t.s.handle({ type: 'events', payload: { events: Array.from({ length: 50 }, (_, i) => ({ type: 'participant_joined', seq: 11 + i, payload: { participant: { ...CY, user_id: 'usr_' + i } } })) } });
  await Promise.resolve();
  assert.equal(t.log.updates - before, 1);
  t.s.finish();
});

test('a redirect of a cluster is followed: the join goes to the node named, with its ticket', () => {
  const signals = [];
  const s = new RoomSession({
    roomId: ROOM, token: 't', sink: null,
    hooks: { onUpdate() {}, onStatus() {}, onError() {}, onNotice() {}, onEnd() {}, onAuthFailed() {}, onAutoplayBlocked() {} },
    makeRtc: (o) => new FakeRtc(o),
    makeSignal: (token, opts) => { const sig = new FakeSignal(); sig.url = opts.url; signals.push(sig); return sig; },
  });
  s.start();
  s.handle({ type: 'welcome', payload: { ping_interval_ms: 1e9 } });
  const first = signals[0];
  assert.equal(first.url, undefined, 'the first connection is to the page\'s own server');
  assert.deepEqual(first.last('join').payload, { room_id: ROOM });
  // Placement: the join is answered with a redirect.
  s.handle({ type: 'redirect', reply_to: first.last('join').id,
    payload: { room_id: ROOM, url: 'wss://node2.example/api/v1/signal', node_id: 'nd_x', reason: 'placement', ticket: 'tk1' } });
  assert.equal(first.closed, true);
  assert.equal(signals.length, 2);
  const second = signals[1];
  assert.equal(second.url, 'wss://node2.example/api/v1/signal');
  s.handle({ type: 'welcome', payload: { ping_interval_ms: 1e9 } });
  assert.deepEqual(second.last('join').payload, { room_id: ROOM, ticket: 'tk1' });
  // A draining node sends us on, unasked.
  s.handle({ type: 'joined', reply_to: second.last('join').id, seq: 3,
    payload: { room: { id: ROOM, title: 'T', created_by: { id: ANN.user_id, display_name: 'Ann' } }, self: BOB, participants: [ANN, BOB], speaking: [], hands_enabled: true, stage_cap: 3 } });
  s.handle({ type: 'redirect', payload: { room_id: ROOM, url: 'wss://node3.example/api/v1/signal', node_id: 'nd_y', reason: 'draining', ticket: 'tk2' } });
  assert.equal(second.closed, true);
  assert.equal(signals[2].url, 'wss://node3.example/api/v1/signal');
  s.handle({ type: 'welcome', payload: { ping_interval_ms: 1e9 } });
  assert.deepEqual(signals[2].last('join').payload, { room_id: ROOM, ticket: 'tk2' });
  // A redirect to something that is not a WebSocket URL is ignored.
  s.handle({ type: 'redirect', payload: { room_id: ROOM, url: 'javascript:alert(1)', reason: 'draining', ticket: 'x' } });
  assert.equal(signals.length, 3);
  s.leave?.();
});
