-- presence_release.lua: forgets a member's whereabouts if they are still
-- the ones given; a newer claim stays. Not a room script.
-- KEYS[1] the member's whereabouts   ARGV[1] the "room|session" to forget
local old = redis.call('GET', KEYS[1])
if old and string.match(old, '^(.*)|%d+$') == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 0
