-- counts.lua: the head counts, { on stage, listeners, guests }; zeros for a
-- room that does not exist or has ended.
local c = redis.call('HMGET', KEYS[1], 'n', 'mods', 'spk', 'g')
local n, mods, spk, g = tonumber(c[1]) or 0, tonumber(c[2]) or 0, tonumber(c[3]) or 0, tonumber(c[4]) or 0
return { 'ok', mods + spk, n - mods - spk, g }
