-- expire.lua: removes, in join order, everyone whose lease or reconnect
-- grace ran out by now, and reports whether the stage has been empty for
-- the empty-stage grace (the caller then ends the room).
-- Returns { 'ok', 1 or 0 }.
if not load_room() or st.ended then
  -- Nothing to expire: make sure the due index forgets the room, even if
  -- its keys went some other way (deleted by hand, evicted).
  redis.call('ZREM', KEYS[7], ROOM)
  return { 'ok', 0 }
end
for _, rec in ipairs(sorted(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', NOW))) do
  remove(rec, 'disconnected', false, '')
end
finish()
if st.deadline ~= nil and NOW >= st.deadline then
  return { 'ok', 1 }
end
return { 'ok', 0 }
