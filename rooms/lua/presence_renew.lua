-- presence_renew.lua: from the process holding the session in the room:
-- extends a member's whereabouts to now+TTL where they are this room and
-- session, records them where there are none (or they lapsed), and leaves
-- them where a newer join put the member elsewhere. Not a room script.
-- KEYS[1] the member's whereabouts   ARGV[1] "room|session"
-- ARGV[2] now ms   ARGV[3] TTL ms
local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local old = redis.call('GET', KEYS[1])
if old then
  local w, untl = string.match(old, '^(.*)|(%d+)$')
  if w and w ~= ARGV[1] and tonumber(untl) > now then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. string.format('%d', now + ttl), 'PX', ttl + 60000)
return 1
