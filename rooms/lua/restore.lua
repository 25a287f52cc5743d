-- restore.lua: puts back what one process knows of a room after Redis lost
-- it (see LiveStore.Restore): opens it if needed, adds the participants it
-- lacks with their records as given, moves seq past the process's last
-- one with a gap of one (so clients take a fresh snapshot), and emits
-- room_updated. No succession: another process may still restore the
-- moderators.
-- ARGV[8] creator   ARGV[9] co-hosts, space-separated   ARGV[10] min seq
-- ARGV[11], ...: participant records (JSON, the shape of lib.lua, with o
-- their join order)
if not load_room() then
  st = {
    seq = 0, creator = ARGV[8], cohosts = ARGV[9], ended = false, hands_off = false,
    deadline = NOW + EMPTY_GRACE, order = 0, n = 0, mods = 0, spk = 0, g = 0,
  }
end
if st.ended then
  return { 'ended' }
end
for i = 11, #ARGV do
  local rec = cjson.decode(ARGV[i])
  if redis.call('HEXISTS', KEYS[2], rec.u) == 0 and redis.call('SISMEMBER', KEYS[6], rec.u) == 0 then
    rec.j, rec.h, rec.s, rec.o = rec.j or 0, rec.h or 0, rec.s or 0, rec.o or 0
    rec.m, rec.i, rec.d = rec.m or false, rec.i or false, false
    rec.n = rec.n or ''
    local role = rec.r or 'listener'
    rec.r = 'listener'
    set_role(rec, role)
    set_hand(rec, rec.h)
    st.n = st.n + 1
    if is_guest(rec.u) then
      st.g = st.g + 1
    end
    if rec.o > st.order then
      st.order = rec.o
    end
    put(rec)
    redis.call('ZADD', KEYS[3], NOW + LEASE_TTL, rec.u)
  end
end
st.seq = math.max(st.seq, tonumber(ARGV[10])) + 1
if st.mods + st.spk > 0 then
  st.deadline = nil
elseif st.deadline == nil then
  st.deadline = NOW + EMPTY_GRACE
end
emit({ t = 'room_updated', hands_enabled = not st.hands_off })
finish()
return { 'ok' }
