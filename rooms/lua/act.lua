-- act.lua: applies one action of docs/stage.md, or refuses it changing
-- nothing. Mirrors stage.act in stage_memory.go check for check: every
-- refusal is decided before the first write.
-- ARGV[8] kind   ARGV[9] actor   ARGV[10] target ('' for none)
-- ARGV[11] block ('1' or '0')   ARGV[12] enabled ('1' or '0')
-- Returns { 'ok' } or { code, detail }.
if not load_room() then
  return { 'not_found' }
end
local kind, actor_id, target_id = ARGV[8], ARGV[9], ARGV[10]
if st.ended then
  return { 'ended', 'room ' .. ROOM }
end
local actor = get(actor_id)
if actor == nil then
  return { 'not_in_room', actor_id .. ' is not in the room' }
end
local needs_target = kind == 'invite' or kind == 'move_to_audience' or kind == 'make_moderator' or kind == 'remove'
local target = actor
if target_id ~= '' and target_id ~= actor_id then
  target = get(target_id)
  if target == nil then
    return { 'not_in_room', target_id .. ' is not in the room' }
  end
elseif needs_target then
  return { 'forbidden', 'cannot be done to oneself' }
end
local is_mod = actor.r == 'moderator'
-- A moderator acts on speakers and listeners; only the creator also on
-- moderators; no one on the creator.
local function may_act_on(t)
  return t.u ~= st.creator and (t.r ~= 'moderator' or actor_id == st.creator)
end
local function full()
  return st.mods + st.spk >= CAP
end
local cap_detail = string.format('%d on stage', CAP)

if kind == 'raise_hand' then
  if on_stage(actor.r) then
    return { 'forbidden', 'already on stage' }
  elseif st.hands_off then
    return { 'hands_disabled', 'in this room' }
  elseif actor.h == 0 then
    -- The hand's place in the queue is the seq of the event raising it.
    set_hand(actor, st.seq + 1)
    put(actor)
    updated(actor, 'hand_raised', '')
  end
elseif kind == 'lower_hand' then
  if actor.h ~= 0 then
    set_hand(actor, 0)
    put(actor)
    updated(actor, 'hand_lowered', '')
  end
elseif kind == 'invite' then
  if not is_mod then
    return { 'forbidden', 'only moderators invite' }
  elseif on_stage(target.r) then
    return { 'already_on_stage', target.u }
  elseif full() then
    -- Refusals come first: a repeated invitation past the cap is refused
    -- too, so that the moderator learns the stage is full.
    return { 'stage_full', cap_detail }
  elseif not target.i then
    target.i = true
    put(target)
    updated(target, 'invited', actor_id)
  end
elseif kind == 'accept_invite' or kind == 'decline_invite' then
  if not actor.i or actor.r ~= 'listener' then
    return { 'not_invited', actor_id }
  end
  if kind == 'decline_invite' then
    actor.i = false
    put(actor)
    updated(actor, 'invite_declined', '')
  else
    if full() then
      return { 'stage_full', cap_detail }
    end
    actor.i, actor.m, actor.s = false, false, NOW
    set_hand(actor, 0)
    set_role(actor, 'speaker')
    put(actor)
    updated(actor, 'invite_accepted', '')
    settle()
  end
elseif kind == 'move_to_audience' or kind == 'make_moderator' then
  if not is_mod then
    return { 'forbidden', 'only moderators move people' }
  elseif not on_stage(target.r) then
    return { 'not_on_stage', target.u }
  elseif (kind == 'move_to_audience' and not may_act_on(target))
      or (target.r == 'moderator' and actor_id ~= st.creator) then
    -- Anyone may be made a moderator, the creator back on stage included;
    -- only moving people down is barred for the creator.
    return { 'forbidden', 'only the creator acts on moderators' }
  elseif kind == 'make_moderator' then
    if target.r ~= 'moderator' then
      set_role(target, 'moderator')
      put(target)
      updated(target, 'made_moderator', actor_id)
    end
  else
    target.m, target.i, target.s = false, false, 0
    set_role(target, 'listener')
    put(target)
    updated(target, 'moved_to_audience', actor_id)
    settle()
  end
elseif kind == 'remove' then
  if not is_mod then
    return { 'forbidden', 'only moderators remove people' }
  elseif not may_act_on(target) then
    return { 'forbidden', 'only the creator acts on moderators' }
  end
  remove(target, 'removed', ARGV[11] == '1', actor_id)
elseif kind == 'mute' then
  if target ~= actor and not is_mod then
    return { 'forbidden', 'only moderators mute others' }
  elseif not on_stage(target.r) then
    return { 'not_on_stage', target.u }
  elseif not target.m then
    target.m = true
    put(target)
    updated(target, 'muted', actor_id)
  end
elseif kind == 'unmute' then
  if target ~= actor then
    return { 'forbidden', 'only ' .. target.u .. ' can unmute themselves' }
  elseif not on_stage(actor.r) then
    return { 'not_on_stage', actor_id }
  elseif actor.m then
    actor.m = false
    put(actor)
    updated(actor, 'unmuted', '')
  end
elseif kind == 'mute_all' then
  if not is_mod then
    return { 'forbidden', 'only moderators mute all' }
  end
  for _, rec in ipairs(sorted(redis.call('ZRANGE', KEYS[4], 0, -1))) do
    if rec.u ~= actor_id and not rec.m then
      rec.m = true
      put(rec)
      updated(rec, 'muted', actor_id)
    end
  end
elseif kind == 'set_hands' then
  local off = ARGV[12] ~= '1'
  if not is_mod then
    return { 'forbidden', 'only moderators turn hand-raising on or off' }
  elseif st.hands_off ~= off then
    st.hands_off = off
    emit({ t = 'room_updated', hands_enabled = not off })
    if off then
      for _, rec in ipairs(sorted(redis.call('ZRANGE', KEYS[5], 0, -1))) do
        set_hand(rec, 0)
        put(rec)
        updated(rec, 'hands_cleared', actor_id)
      end
    end
  end
elseif kind == 'step_down' then
  if not on_stage(actor.r) then
    return { 'not_on_stage', actor_id }
  end
  actor.m, actor.s = false, 0
  set_role(actor, 'listener')
  put(actor)
  updated(actor, 'stepped_down', '')
  settle()
else
  return { 'invalid', 'unknown action' }
end
finish()
return { 'ok' }
