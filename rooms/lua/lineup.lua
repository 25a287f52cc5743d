-- lineup.lua: the head counts and everyone on stage, in join order (the
-- stage set is scored by join order):
-- { 'ok', on stage, listeners, guests, records... }; nothing for a room
-- that does not exist or has ended.
if not load_room() or st.ended then
  return { 'ok', 0, 0, 0 }
end
local out = { 'ok', st.mods + st.spk, st.n - st.mods - st.spk, st.g }
for _, u in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  out[#out + 1] = redis.call('HGET', KEYS[2], u)
end
return out
