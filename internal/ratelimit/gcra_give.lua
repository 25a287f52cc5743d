-- gcra_give.lua: give one token back to a GCRA bucket (see gcra.lua),
-- never past a full bucket.
-- KEYS[1]  the key's state: its theoretical arrival time (TAT), unix µs
-- ARGV[1]  now, unix µs
-- ARGV[2]  interval: µs for one token to come back (period / N)
-- Returns 0.
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if not tat then
  return 0 -- no state: the bucket is full
end
tat = tat - interval
if tat <= now then
  -- Full again: as if new.
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.max(1, math.ceil((tat - now) / 1000)))
end
return 0
