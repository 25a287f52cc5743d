-- leave.lua: takes a participant out if the session still holds the place;
-- otherwise (gone already, replaced by a newer session) does nothing.
-- ARGV[8] user   ARGV[9] session   ARGV[10] reason
if not load_room() then
  return { 'ok' }
end
local rec = get(ARGV[8])
if rec == nil or rec.ses ~= ARGV[9] then
  return { 'ok' }
end
remove(rec, ARGV[10], false, '')
finish()
return { 'ok' }
