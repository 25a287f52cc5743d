-- participant.lua: one participant's record.
-- ARGV[8] user
-- Returns { 'ok', record } or { code }.
if not load_room() then
  return { 'not_found' }
end
if st.ended then
  return { 'ended' }
end
local rec = get(ARGV[8])
if rec == nil then
  return { 'not_in_room', ARGV[8] }
end
return { 'ok', cjson.encode(rec) }
