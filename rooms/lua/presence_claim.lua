-- presence_claim.lua: records a member's whereabouts until now+TTL and
-- returns the ones it replaced, unless they had lapsed. Not a room script:
-- it does not include lib.lua. Times are the caller's, as in every script;
-- Redis's own expiry, a minute later, only collects what lapsed.
-- KEYS[1] the member's whereabouts: "room|session|until ms"
-- ARGV[1] the new "room|session"   ARGV[2] now ms   ARGV[3] TTL ms
local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local old = redis.call('GET', KEYS[1])
local prev = ''
if old then
  local w, untl = string.match(old, '^(.*)|(%d+)$')
  if w and tonumber(untl) > now then
    prev = w
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. string.format('%d', now + ttl), 'PX', ttl + 60000)
return prev
