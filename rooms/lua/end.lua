-- end.lua: drops the room's live state, emits room_ended, and leaves a
-- tombstone (seq, ended) that expires after ARGV[9] ms, so that late joins
-- get room_ended. Idempotent: a second end changes nothing.
-- ARGV[8] reason   ARGV[9] tombstone TTL ms
-- Returns { 'ok', seq }.
if load_room() then
  if st.ended then
    return { 'ok', st.seq }
  end
else
  st = { seq = 0 }
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
redis.call('ZREM', KEYS[7], ROOM)
emit({ t = 'room_ended', reason = ARGV[8] })
redis.call('HSET', KEYS[1], 'seq', st.seq, 'ended', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return { 'ok', st.seq }
