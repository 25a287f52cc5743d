-- open.lua: starts the live state of a room. A room that exists, live or
-- ended (a tombstone), is left as it is.
-- ARGV[8] creator   ARGV[9] co-hosts, space-separated
if redis.call('EXISTS', KEYS[1]) == 1 then
  return { 'ok' }
end
st = {
  seq = 0, creator = ARGV[8], cohosts = ARGV[9], ended = false, hands_off = false,
  -- A new room with nobody on it yet counts as empty.
  deadline = NOW + EMPTY_GRACE,
  order = 0, n = 0, mods = 0, spk = 0, g = 0,
}
finish()
return { 'ok' }
