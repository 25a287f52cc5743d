-- gcra.lua: one decision of the generic cell rate algorithm.
-- KEYS[1]  the key's state: its theoretical arrival time (TAT), unix µs
-- ARGV[1]  now, unix µs
-- ARGV[2]  interval: µs for one token to come back (period / N)
-- ARGV[3]  period, µs: a full bucket is N tokens, so TAT may run up to
--          one period ahead of now
-- Returns { 1, 0 } when allowed, { 0, µs until it would be }.
local now, interval, period = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '') or now
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - period
if now < allow_at then
  return { 0, allow_at - now }
end
-- The key lapses when its bucket is full again: then it is as if new.
-- %d: Lua would write a number this large as 1.7e+15, losing the µs.
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
return { 1, 0 }
