-- renew.lua: extends to now + the lease TTL the leases of sessions that are
-- still connected and still hold their place.
-- ARGV[8], ARGV[9], ...: user, session pairs
if not load_room() then
  return { 'ok' }
end
for i = 8, #ARGV - 1, 2 do
  local rec = get(ARGV[i])
  if rec ~= nil and rec.ses == ARGV[i + 1] and not rec.d then
    redis.call('ZADD', KEYS[3], NOW + LEASE_TTL, rec.u)
  end
end
refresh_due()
return { 'ok' }
