"""The Lua scripts of :class:`~smscenter.store.RedisStore`: every state change is one script.

Redis runs a script atomically (https://redis.io/docs/latest/develop/interactive/programmability/
eval-intro/), so a compare-and-set of a record's state, its version, the change feed, the state
indexes and the id index move together or not at all, and a whole batch costs one round trip.

Every key a script touches starts with the store's prefix ``smsc:{<login>}:`` (``KEYS[1]`` is
the version counter under it, so a cluster routes the call to the login's one slot; the other
keys share its hash tag). ``ARGV[1]`` is the prefix; the rest is per script.

Layout (``P`` = the prefix):

- ``P msg:<cid>``: the record, a hash (see ``_redis_codec``).
- ``P hist:<cid>``: its report history, a list of JSON entries; ``P evk:<cid>``: their event
  keys (a set: a repeated report adds nothing).
- ``P mid:<id>``: every part's canonical id -> client id, with an expiry.
- ``P pend:<id>``: reports that came before their id was settled (event key -> JSON entry);
  ``P pendidx``: their ids by arrival time (purge).
- ``P ver``: the version counter; ``P feed``: client id by last version (the change feed);
  ``P recs``: client id by creation order; ``P st:<state>``: client id by creation order, one
  sorted set per state (counts and listings by state).
- ``P live:<owner>``: a sender's liveness key (``PX`` lease): a ``SENDING`` record whose owner's
  key expired is read, then written, as ``UNKNOWN``.
"""

from __future__ import annotations

from smscenter.store._redis_codec import LOST

__all__ = ("ENQUEUE", "PREPARE", "PURGE", "REAP", "RECORD", "RENEW", "SETTLE")

# Shared helpers (Lua 5.1 as embedded in Redis; cjson is built in).
_PRELUDE = r"""
local P = ARGV[1]
local T = redis.call('TIME')
local NOW = T[1] .. string.format('%06d', tonumber(T[2]))
local RANK = {queued=0, sending=0, unknown=0, failed=0, refused=0,
              accepted=1, expired=2, undeliverable=2, delivered=3, read=4}
local FINAL = {refused=true, delivered=true, read=true, expired=true, undeliverable=true}
local LOST = '@LOST@'

local function bump(cid, mk)
  local v = redis.call('INCR', P .. 'ver')
  redis.call('HSET', mk, 'ver', v, 'ua', NOW)
  redis.call('ZADD', P .. 'feed', v, cid)
  return v
end

local function move(cid, mk, old, new)
  if old == new then return end
  local seq = redis.call('HGET', mk, 'seq')
  if old then redis.call('ZREM', P .. 'st:' .. old, cid) end
  redis.call('ZADD', P .. 'st:' .. new, seq, cid)
  redis.call('HSET', mk, 'st', new)
  if FINAL[new] and not (old and FINAL[old]) then redis.call('HSET', mk, 'fa', NOW) end
  if new ~= 'sending' then redis.call('HDEL', mk, 'own') end
end

-- A SENDING record whose owner's liveness key is gone: that sender stopped mid-send.
local function orphaned(mk, old, me)
  if old ~= 'sending' then return false end
  local own = redis.call('HGET', mk, 'own')
  if not own or own == me then return false end
  return redis.call('EXISTS', P .. 'live:' .. own) == 0
end

local function lose(cid, mk)
  move(cid, mk, 'sending', 'unknown')
  redis.call('HSET', mk, 'err', LOST)
  redis.call('HDEL', mk, 'ecode')
  bump(cid, mk)
end

local function index_ids(cid, ids, ttl)
  for _, id in ipairs(ids) do
    redis.call('SET', P .. 'mid:' .. id, cid, 'EX', ttl)
  end
end

-- Apply one report entry (JSON) to record cid; 0 when it was a repeat.
local function apply_report(cid, blob, ttl)
  local mk = P .. 'msg:' .. cid
  local r = cjson.decode(blob)
  if redis.call('SADD', P .. 'evk:' .. cid, r.k) == 0 then return 0 end
  redis.call('RPUSH', P .. 'hist:' .. cid, blob)
  local old = redis.call('HGET', mk, 'st')
  if RANK[r.t] >= RANK[old] then
    redis.call('HSET', mk, 'status', r.s, 'derr', r.e)
  end
  if RANK[r.t] > RANK[old] then
    move(cid, mk, old, r.t)
    if RANK[old] == 0 then
      redis.call('HDEL', mk, 'err', 'ecode')
      if not redis.call('HGET', mk, 'aa') then redis.call('HSET', mk, 'aa', NOW) end
    end
  end
  if r.c then redis.call('HSET', mk, 'cost', r.c) end
  if r.p then redis.call('HSET', mk, 'parts', r.p) end
  if r.m ~= '' and not redis.call('HGET', mk, 'mid') then
    redis.call('HSET', mk, 'mid', r.m, 'pids', r.m)
    index_ids(cid, {r.m}, ttl)
  end
  bump(cid, mk)
  return 1
end

local function match_pending(cid, id, ttl)
  local pk = P .. 'pend:' .. id
  local blobs = redis.call('HVALS', pk)
  if #blobs == 0 then return end
  table.sort(blobs)
  for _, blob in ipairs(blobs) do apply_report(cid, blob, ttl) end
  redis.call('DEL', pk)
  redis.call('ZREM', P .. 'pendidx', id)
end
""".replace("@LOST@", LOST)

#: ARGV: prefix, owner, lease ms, resend_unknown (0/1), then per send: cid, recipient, transport.
#: Returns per send 0 (go ahead: now SENDING, owned) or 1 (do not send: read the record).
PREPARE = (
    _PRELUDE
    + r"""
local me, lease, resend = ARGV[2], ARGV[3], ARGV[4] == '1'
redis.call('SET', P .. 'live:' .. me, NOW, 'PX', lease)
local out = {}
for i = 5, #ARGV, 3 do
  local cid, rcp, tr = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local mk = P .. 'msg:' .. cid
  local old = redis.call('HGET', mk, 'st')
  if not old then
    local seq = redis.call('INCR', P .. 'ver')
    redis.call('HSET', mk, 'cid', cid, 'rcp', rcp, 'tr', tr, 'att', 1, 'own', me,
               'seq', seq, 'ca', NOW)
    redis.call('ZADD', P .. 'recs', seq, cid)
    move(cid, mk, nil, 'sending')
    bump(cid, mk)
    out[#out + 1] = 0
  else
    if orphaned(mk, old, me) then
      lose(cid, mk)
      old = 'unknown'
    end
    if old == 'queued' or old == 'failed' or (old == 'unknown' and resend) then
      move(cid, mk, old, 'sending')
      redis.call('HSET', mk, 'own', me, 'tr', tr)
      redis.call('HDEL', mk, 'err', 'ecode')
      redis.call('HINCRBY', mk, 'att', 1)
      bump(cid, mk)
      out[#out + 1] = 0
    else
      out[#out + 1] = 1
    end
  end
end
return out
"""
)

#: ARGV: prefix, owner, id ttl s, then one JSON settlement each. Returns per settlement 1 when
#: the record exists (settled, or already so), 0 when there is no such record.
SETTLE = (
    _PRELUDE
    + r"""
local me, ttl = ARGV[2], ARGV[3]
local out = {}
for i = 4, #ARGV do
  local s = cjson.decode(ARGV[i])
  local cid = s.c
  local mk = P .. 'msg:' .. cid
  local old = redis.call('HGET', mk, 'st')
  if not old then
    out[#out + 1] = 0
  else
    out[#out + 1] = 1
    local changed = false
    if s.t == 'accepted' then
      if RANK[old] == 0 then
        move(cid, mk, old, 'accepted')
        redis.call('HSET', mk, 'aa', NOW)
        redis.call('HDEL', mk, 'err', 'ecode')
        changed = true
      end
      if changed or not redis.call('HGET', mk, 'mid') then
        if s.m then redis.call('HSET', mk, 'mid', s.m, 'pids', table.concat(s.i, '\n')) end
        if s.p then redis.call('HSET', mk, 'parts', s.p) end
        if s.o then redis.call('HSET', mk, 'cost', s.o) end
        index_ids(cid, s.i, ttl)
        changed = true
      end
    elseif RANK[old] == 0
        and (old ~= s.t or (redis.call('HGET', mk, 'err') or '') ~= (s.e or '')) then
      move(cid, mk, old, s.t)
      if s.e then redis.call('HSET', mk, 'err', s.e) else redis.call('HDEL', mk, 'err') end
      if s.x then redis.call('HSET', mk, 'ecode', s.x) else redis.call('HDEL', mk, 'ecode') end
      changed = true
    end
    if changed then bump(cid, mk) end
    for _, id in ipairs(s.i) do match_pending(cid, id, ttl) end
    match_pending(cid, cid, ttl)
    local pk = P .. 'pcl:' .. cid
    for _, id in ipairs(redis.call('SMEMBERS', pk)) do match_pending(cid, id, ttl) end
    redis.call('DEL', pk)
  end
end
return out
"""
)

#: ARGV: prefix, id ttl s, then per report: message id, client id ('' if none), JSON entry.
#: Returns per report 1 (applied), 0 (a repeat) or 2 (kept as pending).
RECORD = (
    _PRELUDE
    + r"""
local ttl = ARGV[2]
local out = {}
for i = 3, #ARGV, 3 do
  local id, cl, blob = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local cid = redis.call('GET', P .. 'mid:' .. id)
  if not cid and cl ~= '' and redis.call('EXISTS', P .. 'msg:' .. cl) == 1 then cid = cl end
  if cid and redis.call('EXISTS', P .. 'msg:' .. cid) == 0 then cid = nil end
  if cid then
    out[#out + 1] = apply_report(cid, blob, ttl)
  else
    local k = cjson.decode(blob).k
    redis.call('HSETNX', P .. 'pend:' .. id, k, blob)
    redis.call('ZADD', P .. 'pendidx', 'NX', NOW, id)
    -- Its client id (a callback's) ties it to its record too, if the send ends without ids.
    if cl ~= '' then redis.call('SADD', P .. 'pcl:' .. cl, id) end
    out[#out + 1] = 2
  end
end
return out
"""
)

#: ARGV: prefix, owner, limit. Moves SENDING records of senders that stopped to UNKNOWN;
#: returns how many SENDING records it looked at (the caller loops while that is the limit).
REAP = (
    _PRELUDE
    + r"""
local me, limit = ARGV[2], tonumber(ARGV[3])
local cids = redis.call('ZRANGE', P .. 'st:sending', 0, limit - 1)
local n = 0
for _, cid in ipairs(cids) do
  local mk = P .. 'msg:' .. cid
  if orphaned(mk, 'sending', me) then
    lose(cid, mk)
    n = n + 1
  end
end
return {#cids, n}
"""
)

#: ARGV: prefix, cutoff (us since the epoch), limit. Deletes up to ``limit`` records last changed
#: before the cutoff (oldest change first) and pending reports that came before it; returns
#: {records deleted, records looked at}.
PURGE = (
    _PRELUDE
    + r"""
local cutoff, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local cids = redis.call('ZRANGE', P .. 'feed', 0, limit - 1)
local n = 0
local stop = false
for _, cid in ipairs(cids) do
  local mk = P .. 'msg:' .. cid
  local f = redis.call('HMGET', mk, 'ua', 'st', 'pids')
  if f[1] and tonumber(f[1]) >= cutoff then stop = true break end
  if f[3] then
    for id in string.gmatch(f[3], '[^\n]+') do
      if redis.call('GET', P .. 'mid:' .. id) == cid then redis.call('DEL', P .. 'mid:' .. id) end
    end
  end
  if f[2] then redis.call('ZREM', P .. 'st:' .. f[2], cid) end
  redis.call('DEL', mk, P .. 'hist:' .. cid, P .. 'evk:' .. cid)
  redis.call('ZREM', P .. 'feed', cid)
  redis.call('ZREM', P .. 'recs', cid)
  n = n + 1
end
if #cids < limit then stop = true end
local old = redis.call('ZRANGEBYSCORE', P .. 'pendidx', '-inf', '(' .. ARGV[2], 'LIMIT', 0, limit)
for _, id in ipairs(old) do
  for _, blob in ipairs(redis.call('HVALS', P .. 'pend:' .. id)) do
    local cl = cjson.decode(blob).cl
    if cl then redis.call('SREM', P .. 'pcl:' .. cl, id) end
  end
  redis.call('DEL', P .. 'pend:' .. id)
  redis.call('ZREM', P .. 'pendidx', id)
end
if stop and #old < limit then return {n, 0} end
return {n, 1}
"""
)

#: ARGV: prefix, stream key suffix, requeue failed (0/1), then per message: cid, recipient,
#: entry JSON. A message whose client id has no record gets a QUEUED record and a stream entry
#: in one step (so enqueuing twice queues nothing twice); a FAILED one (it never reached the
#: provider) is queued again when asked. Returns per message 1 (queued) or 0 (already known).
ENQUEUE = (
    _PRELUDE
    + r"""
local stream, retry = P .. ARGV[2], ARGV[3] == '1'
local out = {}
for i = 4, #ARGV, 3 do
  local cid, rcp, entry = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local mk = P .. 'msg:' .. cid
  local old = redis.call('HGET', mk, 'st')
  local go = false
  if not old then
    local seq = redis.call('INCR', P .. 'ver')
    redis.call('HSET', mk, 'cid', cid, 'rcp', rcp, 'att', 0, 'seq', seq, 'ca', NOW)
    redis.call('ZADD', P .. 'recs', seq, cid)
    go = true
  elseif old == 'failed' and retry then
    go = true
  end
  if go then
    move(cid, mk, old or nil, 'queued')
    bump(cid, mk)
    redis.call('XADD', stream, '*', 'c', cid, 'm', entry)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""
)

#: KEYS: the liveness key; ARGV: lease ms. Renews it with the server's time (us) as its value:
#: when the sender last showed it was connected to this server.
RENEW = r"""
local t = redis.call('TIME')
return redis.call('SET', KEYS[1], t[1] .. string.format('%06d', tonumber(t[2])), 'PX', ARGV[1])
"""
