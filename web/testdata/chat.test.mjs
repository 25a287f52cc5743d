// Unit tests of the chat's message log (chat.js): messages are kept by
// their seq, so late or repeated events land where they belong. Run by
// web_test.go with `node --test`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatLog } from '../static/chat.js';

const msg = (seq, id = 'msg_' + seq) => ({ id, seq, room_id: 'rm_r', author: { id: 'usr_a', display_name: 'Ann' }, body: 'm' + seq, created_at: '' });

test('messages come out in seq order whatever order they arrived in', () => {
  const log = new ChatLog();
  for (const s of [3, 1, 5, 2]) log.add(msg(s));
  assert.deepEqual(log.messages.map((m) => m.seq), [1, 2, 3, 5]);
  assert.equal(log.lastSeq, 5);
});

test('a message seen twice (the ok and the event) is kept once', () => {
  const log = new ChatLog();
  log.add(msg(1));
  log.add(msg(1));
  assert.equal(log.messages.length, 1);
});

test('a deletion removes the message by id and seq, or by id alone', () => {
  const log = new ChatLog();
  for (const s of [1, 2, 3]) log.add(msg(s));
  log.remove('msg_2', 2);
  log.remove('msg_3');
  log.remove('msg_9', 1); // a stale seq names another message: nothing goes
  assert.deepEqual(log.messages.map((m) => m.seq), [1]);
});

test('what is not a message is ignored', () => {
  const log = new ChatLog();
  log.add(null);
  log.add({ seq: '1', id: 'x' });
  log.add({ seq: 2 });
  assert.equal(log.messages.length, 0);
  assert.equal(log.lastSeq, 0);
});
