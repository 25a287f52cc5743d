-- presence_renew.lua: extends a member's whereabouts to now+TTL unless
-- they have lapsed. Not a room script.
-- KEYS[1] the member's whereabouts   ARGV[1] now ms   ARGV[2] TTL ms
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local old = redis.call('GET', KEYS[1])
if not old then
  return 0
end
local w, untl = string.match(old, '^(.*)|(%d+)$')
if not w or tonumber(untl) <= now then
  return 0
end
redis.call('SET', KEYS[1], w .. '|' .. string.format('%d', now + ttl), 'PX', ttl + 60000)
return 1
