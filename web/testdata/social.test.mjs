// Unit tests of what the room session does about one room at a time, the
// join rate limit and guests (room.js). Run by web_test.go with
// `node --test`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomSession } from '../static/room.js';
import { guestPathRoom, visibilityLabel } from '../static/social.js';

const ROOM = 'rm_test';
const ANN = { user_id: 'usr_ann', display_name: 'Ann', role: 'moderator', joined_at: '', muted: false, invited: false, hand_raised_seq: 0 };
const GUEST = { user_id: 'gst_aaaaaaaaaaaaaaaaaaaaaaaaaa', display_name: 'Guest', role: 'listener', joined_at: '', muted: false, invited: false, hand_raised_seq: 0 };
const BOB = { user_id: 'usr_bob', display_name: 'Bob', role: 'listener', joined_at: '', muted: false, invited: false, hand_raised_seq: 0 };

class FakeSignal {
  constructor() { this.sent = []; this.nextId = 1; this.open = true; }
  send(type, payload = {}) { const id = String(this.nextId++); this.sent.push({ type, id, payload }); return id; }
  close() { this.open = false; }
  last(type) { return this.sent.filter((m) => m.type === type).at(-1); }
}

class FakeRtc {
  constructor() { this.state = 'new'; this.hasMic = false; }
  start() { return Promise.resolve(); }
  setSending() {}
  setMuted() {}
  retryMic() { return Promise.resolve(false); }
  close() {}
  onOffer() {}
  onAnswer() {}
  onCandidate() {}
  onOfferRefused() {}
}

function session() {
  const log = { ends: [], errors: [] };
  let signal = null;
  const s = new RoomSession({
    roomId: ROOM, token: 't', sink: null,
    hooks: {
      onUpdate() {}, onStatus() {}, onNotice() {}, onAuthFailed() {}, onAutoplayBlocked() {},
      onError: (code, message) => log.errors.push({ code, message }),
      onEnd: (e) => log.ends.push(e),
    },
    makeRtc: () => new FakeRtc(),
    makeSignal: () => (signal = new FakeSignal()),
  });
  s.start();
  s.handle({ type: 'welcome', payload: { ping_interval_ms: 1e9 } });
  return { s, log, signal: () => signal };
}

function join(t, self, participants) {
  const j = t.signal().last('join');
  t.s.handle({
    type: 'joined', reply_to: j.id, seq: 10,
    payload: {
      room: { id: ROOM, title: 'T', visibility: 'open', created_by: { id: ANN.user_id, display_name: 'Ann' } },
      self, participants, speaking: [], hands_enabled: true, stage_cap: 3,
    },
  });
}

test('moving to another room ends this visit for good, without a reconnection', () => {
  const t = session();
  join(t, BOB, [ANN, BOB]);
  t.s.handle({ type: 'participant_left', seq: 11, payload: { user_id: BOB.user_id, reason: 'moved' } });
  assert.equal(t.log.ends.length, 1);
  assert.equal(t.log.ends[0].reason, 'moved');
  assert.match(t.log.ends[0].message, /joined another room/);
  assert.equal(t.s.phase, 'done');
});

test('someone else moving away just leaves the list', () => {
  const t = session();
  join(t, ANN, [ANN, BOB]);
  t.s.handle({ type: 'participant_left', seq: 11, payload: { user_id: BOB.user_id, reason: 'moved' } });
  assert.equal(t.log.ends.length, 0);
  assert.equal(t.s.participants.has(BOB.user_id), false);
  t.s.finish();
});

for (const code of ['rate_limited', 'forbidden', 'room_not_found']) {
  test(`a join refused with ${code} ends the visit instead of retrying`, () => {
    const t = session();
    const j = t.signal().last('join');
    t.s.handle({ type: 'error', reply_to: j.id, payload: { code, message: code } });
    assert.equal(t.log.ends.length, 1);
    assert.equal(t.log.ends[0].reason, code);
    assert.equal(t.s.phase, 'done');
  });
}

test('a guest is told apart by their ID', () => {
  const t = session();
  join(t, GUEST, [ANN, GUEST]);
  assert.equal(t.s.isGuest, true);
  assert.equal(t.s.onStage, false);
  t.s.finish();
  const m = session();
  join(m, BOB, [ANN, BOB]);
  assert.equal(m.s.isGuest, false);
  m.s.finish();
});

test('guest links and visibility labels', () => {
  assert.equal(guestPathRoom('/listen/rm_abc'), 'rm_abc');
  assert.equal(guestPathRoom('/listen/rm_abc/'), 'rm_abc');
  assert.equal(guestPathRoom('/rooms/rm_abc'), null);
  assert.equal(guestPathRoom('/listen/'), null);
  assert.equal(visibilityLabel('open'), '');
  assert.match(visibilityLabel('social'), /followers/i);
  assert.match(visibilityLabel('closed'), /invitation/i);
});
