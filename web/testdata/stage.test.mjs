// Unit tests of the stage rules the page applies (stage.js), against the
// table in docs/stage.md. Run by web_test.go with `node --test`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionsOn, actionMessage, handQueue, stageOrder, audienceOf, ordinal } from '../static/stage.js';

const p = (id, role, extra = {}) => ({ user_id: id, display_name: id, role, muted: false, invited: false, hand_raised_seq: 0, ...extra });
const CREATOR = 'usr_creator';

test('what a moderator may do to whom', () => {
  const creator = p(CREATOR, 'moderator');
  const mod = p('usr_mod', 'moderator');
  const speaker = p('usr_sp', 'speaker');
  const listener = p('usr_l', 'listener');
  const cases = [
    // [me, target, actions]
    [mod, listener, ['invite', 'remove', 'remove_block']],
    [mod, p('usr_l', 'listener', { invited: true }), ['remove', 'remove_block']],
    [mod, speaker, ['move_to_audience', 'make_moderator', 'mute', 'remove', 'remove_block']],
    [mod, p('usr_sp', 'speaker', { muted: true }), ['move_to_audience', 'make_moderator', 'remove', 'remove_block']],
    [mod, p('usr_mod2', 'moderator'), []], // only the creator acts on moderators
    [mod, creator, []], // no one acts on the creator
    [mod, p(CREATOR, 'listener'), ['invite']], // …but a creator who stepped down may be invited back
    [creator, p('usr_mod2', 'moderator'), ['move_to_audience', 'mute', 'remove', 'remove_block']],
    [creator, speaker, ['move_to_audience', 'make_moderator', 'mute', 'remove', 'remove_block']],
    [speaker, listener, []],
    [listener, speaker, []],
    [mod, mod, []], // not on oneself
  ];
  for (const [me, target, want] of cases) {
    assert.deepEqual(actionsOn(me, target, CREATOR), want, `${me.user_id} (${me.role}) on ${target.user_id} (${target.role})`);
  }
  assert.deepEqual(actionsOn(null, speaker, CREATOR), []);
});

test('action messages', () => {
  assert.deepEqual(actionMessage('invite', 'usr_x'), { type: 'invite', payload: { user_id: 'usr_x' } });
  assert.deepEqual(actionMessage('remove', 'usr_x'), { type: 'remove', payload: { user_id: 'usr_x' } });
  assert.deepEqual(actionMessage('remove_block', 'usr_x'), { type: 'remove', payload: { user_id: 'usr_x', block: true } });
  assert.deepEqual(actionMessage('mute', 'usr_x'), { type: 'mute', payload: { user_id: 'usr_x' } });
});

test('the hand queue is in hand_raised_seq order', () => {
  const list = [p('a', 'listener', { hand_raised_seq: 30 }), p('b', 'listener'), p('c', 'listener', { hand_raised_seq: 12 }), p('d', 'listener', { hand_raised_seq: 20 })];
  assert.deepEqual(handQueue(list).map((x) => x.user_id), ['c', 'd', 'a']);
});

test('stage: moderators first, then speakers, each in join order; audience in join order', () => {
  const list = [p('s1', 'speaker'), p('l1', 'listener'), p('m1', 'moderator'), p('s2', 'speaker'), p('l2', 'listener'), p('m2', 'moderator')];
  assert.deepEqual(stageOrder(list).map((x) => x.user_id), ['m1', 'm2', 's1', 's2']);
  assert.deepEqual(audienceOf(list).map((x) => x.user_id), ['l1', 'l2']);
});

test('ordinals', () => {
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal),
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st', '111th']);
});
