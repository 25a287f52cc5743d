-- join.lua: adds a participant, or hands an existing place to a new session.
-- ARGV[8] user   ARGV[9] session   ARGV[10] display name   ARGV[11] joined at (ms)
-- Returns { 'ok', record, replaced session, seq, hands_off, records... }
-- or { code }.
if not load_room() then
  return { 'not_found' }
end
if st.ended then
  return { 'ended' }
end
local user, session = ARGV[8], ARGV[9]
if redis.call('SISMEMBER', KEYS[6], user) == 1 then
  return { 'blocked' }
end
local rec, replaced = get(user), ''
if rec ~= nil then
  -- Back within the grace, or a second connection: the place and all it
  -- holds moves to the new session, and the old one hears it lost it.
  if rec.ses ~= session then
    replaced = rec.ses
    publish({ t = 'session_replaced', p = rec, reason = 'replaced' })
  end
  rec.ses, rec.d = session, false
  put(rec)
  redis.call('ZADD', KEYS[3], NOW + LEASE_TTL, user)
else
  st.order, st.n = st.order + 1, st.n + 1
  if is_guest(user) then
    st.g = st.g + 1
  end
  rec = {
    u = user, n = ARGV[10], r = 'listener', j = tonumber(ARGV[11]), m = false, i = false,
    h = 0, s = 0, ses = session, o = st.order, d = false,
  }
  if is_host(user) then
    set_role(rec, 'moderator')
    rec.s = NOW
  end
  put(rec)
  redis.call('ZADD', KEYS[3], NOW + LEASE_TTL, user)
  local ev = { t = 'participant_joined', p = rec }
  if rec.r == 'listener' then
    ev.aud = true
  end
  emit(ev)
  settle()
end
finish()
return records({ 'ok', cjson.encode(rec), replaced, st.seq, st.hands_off and 1 or 0 })
