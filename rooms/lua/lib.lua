-- lib.lua: the helpers every room script shares. The Go side prepends this
-- file to each script, so every script sees the same keys and arguments.
-- These are the rules of docs/stage.md as Lua, mirroring stage_memory.go
-- (settle, remove, the events); the contract suite holds the two together.
--
-- KEYS[1] meta     HASH  seq, creator, cohosts (space-separated user IDs),
--                        ended, hands_off, deadline (empty-stage
--                        end, unix ms; "" while someone is on stage), order
--                        (join counter), n (participants), mods, spk, g
--                        (guests, who are listeners whose ID starts gst_)
-- KEYS[2] p        HASH  user -> participant record (JSON, see below)
-- KEYS[3] leases   ZSET  user -> end of lease or reconnect grace, unix ms
-- KEYS[4] stage    ZSET  user -> join order, for everyone on stage
-- KEYS[5] hands    ZSET  user -> join order, for every raised hand
-- KEYS[6] blocked  SET   users removed with block
-- KEYS[7] due      ZSET  room -> when expire next has work, unix ms; one
--                        per bucket of rooms, in the same hash slot as them
-- ARGV[1] room ID       ARGV[2] event channel   ARGV[3] now, unix ms
-- ARGV[4] stage cap     ARGV[5] lease TTL ms    ARGV[6] reconnect grace ms
-- ARGV[7] empty-stage grace ms; each script's own arguments start at ARGV[8].
--
-- A record: u user, n display name, r role, j joined at (ms, 0 for none),
-- m muted, i invited, h hand-raised seq, s on stage since (ms, 0 for
-- none), ses session, o join order, d dropped (the reconnect grace runs).
-- Events are JSON too: t type, room, seq, at, p record, cause, by, reason,
-- blocked, hands_enabled, aud (an audience-only change).

local ROOM, CHANNEL = ARGV[1], ARGV[2]
local NOW, CAP = tonumber(ARGV[3]), tonumber(ARGV[4])
local LEASE_TTL, RECONNECT_GRACE, EMPTY_GRACE = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])

-- st is the room's meta once load_room has read it.
local st

local function load_room()
  local raw = redis.call('HGETALL', KEYS[1])
  if #raw == 0 then
    return false
  end
  local m = {}
  for i = 1, #raw, 2 do
    m[raw[i]] = raw[i + 1]
  end
  st = {
    seq = tonumber(m.seq) or 0, creator = m.creator or '', cohosts = m.cohosts or '', ended = m.ended == '1',
    hands_off = m.hands_off == '1', deadline = tonumber(m.deadline or ''),
    order = tonumber(m.order) or 0, n = tonumber(m.n) or 0,
    mods = tonumber(m.mods) or 0, spk = tonumber(m.spk) or 0, g = tonumber(m.g) or 0,
  }
  return true
end

local function save_room()
  redis.call('HSET', KEYS[1], 'seq', st.seq, 'creator', st.creator, 'cohosts', st.cohosts, 'ended', st.ended and '1' or '0',
    'hands_off', st.hands_off and '1' or '0', 'deadline', st.deadline or '',
    'order', st.order, 'n', st.n, 'mods', st.mods, 'spk', st.spk, 'g', st.g or 0)
end

-- refresh_due keeps the room's entry in the due index at the earliest of
-- its empty-stage deadline and its leases, and drops it when there is none.
local function refresh_due()
  local due = nil
  if not st.ended then
    due = st.deadline
    local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    if #first > 0 then
      local lease = tonumber(first[2])
      if due == nil or lease < due then
        due = lease
      end
    end
  end
  if due == nil then
    redis.call('ZREM', KEYS[7], ROOM)
  else
    redis.call('ZADD', KEYS[7], due, ROOM)
  end
end

-- finish writes the meta back and refreshes the due index: the last step
-- of every script that changed the room.
local function finish()
  save_room()
  refresh_due()
end

-- Records read in this script, so that one record changed twice (a
-- successor, a muted speaker) is read once and written with both changes.
local cache = {}

local function get(user)
  local rec = cache[user]
  if rec ~= nil then
    return rec
  end
  local raw = redis.call('HGET', KEYS[2], user)
  if not raw then
    return nil
  end
  rec = cjson.decode(raw)
  cache[user] = rec
  return rec
end

local function put(rec)
  cache[rec.u] = rec
  redis.call('HSET', KEYS[2], rec.u, cjson.encode(rec))
end

-- sorted returns the records of users in join order.
local function sorted(users)
  local recs = {}
  for _, u in ipairs(users) do
    recs[#recs + 1] = get(u)
  end
  table.sort(recs, function(a, b) return a.o < b.o end)
  return recs
end

-- publish sends an event that changes no shared state (seq 0).
local function publish(ev)
  ev.room, ev.at = ROOM, NOW
  redis.call('PUBLISH', CHANNEL, cjson.encode(ev))
end

-- emit sends a change of state: it takes the room's next seq. Publishing
-- inside the script makes the change and its event one atomic step, so
-- every subscriber of every process sees events in seq order.
local function emit(ev)
  st.seq = st.seq + 1
  ev.seq = st.seq
  publish(ev)
end

local function updated(rec, cause, by)
  local ev = { t = 'participant_updated', p = rec, cause = cause }
  if by ~= '' and by ~= rec.u then
    ev.by = by
  end
  if rec.r == 'listener' and (cause == 'hand_raised' or cause == 'hand_lowered') then
    ev.aud = true
  end
  emit(ev)
end

-- is_host reports whether user joins as a moderator: the creator or a
-- co-host. User IDs hold no spaces, so a padded find is an exact match.
local function is_host(user)
  return user == st.creator or string.find(' ' .. st.cohosts .. ' ', ' ' .. user .. ' ', 1, true) ~= nil
end

-- is_guest tells a guest (rooms/guests.go) by the prefix of their ID.
local function is_guest(user)
  return string.sub(user, 1, 4) == 'gst_'
end

local function on_stage(role)
  return role == 'moderator' or role == 'speaker'
end

local function count(role, d)
  if role == 'moderator' then
    st.mods = st.mods + d
  elseif role == 'speaker' then
    st.spk = st.spk + d
  end
end

-- set_role changes a role and keeps the counts and the stage set with it.
local function set_role(rec, role)
  count(rec.r, -1)
  count(role, 1)
  if on_stage(role) and not on_stage(rec.r) then
    redis.call('ZADD', KEYS[4], rec.o, rec.u)
  elseif on_stage(rec.r) and not on_stage(role) then
    redis.call('ZREM', KEYS[4], rec.u)
  end
  rec.r = role
end

local function set_hand(rec, h)
  rec.h = h
  if h ~= 0 then
    redis.call('ZADD', KEYS[5], rec.o, rec.u)
  else
    redis.call('ZREM', KEYS[5], rec.u)
  end
end

-- settle applies the rules that follow any change of the stage: the
-- longest-serving speaker (ties: the first to join) succeeds the last
-- moderator, and an empty stage starts the countdown to the room's end.
local function settle()
  if st.mods == 0 and st.spk > 0 then
    local first
    -- The stage is at most the cap (plus a late creator): a scan is cheap.
    for _, u in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
      local rec = get(u)
      if rec.r == 'speaker' and (first == nil or rec.s < first.s or (rec.s == first.s and rec.o < first.o)) then
        first = rec
      end
    end
    set_role(first, 'moderator')
    put(first)
    updated(first, 'succession', '')
  end
  if st.mods + st.spk > 0 then
    st.deadline = nil
  elseif st.deadline == nil then
    st.deadline = NOW + EMPTY_GRACE
  end
end

-- remove takes a participant out of the room and settles the stage.
local function remove(rec, reason, blocked, by)
  redis.call('HDEL', KEYS[2], rec.u)
  redis.call('ZREM', KEYS[3], rec.u)
  redis.call('ZREM', KEYS[4], rec.u)
  redis.call('ZREM', KEYS[5], rec.u)
  cache[rec.u] = nil
  count(rec.r, -1)
  st.n = st.n - 1
  if is_guest(rec.u) then
    st.g = st.g - 1
  end
  if blocked then
    redis.call('SADD', KEYS[6], rec.u)
  end
  local ev = { t = 'participant_left', p = { u = rec.u, ses = rec.ses }, reason = reason }
  if blocked then
    ev.blocked = true
  end
  if by ~= '' then
    ev.by = by
  end
  -- A removal, or a move to another room, goes out at once: the member's
  -- own session must hear it before it lets go of the room.
  if rec.r == 'listener' and reason ~= 'removed' and reason ~= 'moved' then
    ev.aud = true
  end
  emit(ev)
  settle()
end

-- records returns every participant record, for a snapshot; the Go side
-- puts them in join order.
local function records(out)
  for _, raw in ipairs(redis.call('HVALS', KEYS[2])) do
    out[#out + 1] = raw
  end
  return out
end

