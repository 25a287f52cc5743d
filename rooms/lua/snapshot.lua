-- snapshot.lua: the room as it is.
-- Returns { 'ok', seq, hands_off, records... } or { code }.
if not load_room() then
  return { 'not_found' }
end
if st.ended then
  return { 'ended' }
end
return records({ 'ok', st.seq, st.hands_off and 1 or 0 })
