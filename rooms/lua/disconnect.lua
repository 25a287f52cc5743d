-- disconnect.lua: a dropped session keeps its place until now + the
-- reconnect grace; Renew no longer extends it.
-- ARGV[8] user   ARGV[9] session
if not load_room() then
  return { 'ok' }
end
local rec = get(ARGV[8])
if rec ~= nil and rec.ses == ARGV[9] then
  rec.d = true
  put(rec)
  redis.call('ZADD', KEYS[3], NOW + RECONNECT_GRACE, rec.u)
  refresh_due()
end
return { 'ok' }
