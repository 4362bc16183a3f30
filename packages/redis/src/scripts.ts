/**
 * The Lua scripts: every read-modify-write on shared state runs inside Redis, atomically. Each script bumps the
 * change sequence of the records it touched, so other workers pull exactly what changed (pull.lua).
 */

/** Bumps the change sequence and files `key` under it. */
const BUMP = `
local function bump(key)
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[3], seq, key)
  return seq
end
`;

/**
 * apply: KEYS = [epoch, seq, changes, record...]; ARGV = [epoch, now, halfLifeMillis, retiredTtlMillis, deltas JSON].
 * Returns the last sequence number, or {'EPOCH', current} when Redis is not the one this worker synced with (it
 * restarted empty, or was flushed): the worker then re-seeds it from what it knows (sync.ts).
 */
export const APPLY_LUA = `${BUMP}
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then return {'EPOCH', epoch or ''} end
local now = tonumber(ARGV[2])
local half = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local deltas = cjson.decode(ARGV[5])
local seq = 0
local function factor(from, to)
  if to > from then return math.pow(2, -(to - from) / half) end
  return 1
end
for i, d in ipairs(deltas) do
  local key = KEYS[i + 3]
  if type(d.add) == 'table' then
    for name, v in pairs(d.add) do redis.call('HINCRBYFLOAT', key, 'n:' .. name, v) end
  end
  if type(d.recent) == 'table' then
    local last = tonumber(redis.call('HGET', key, 'r@') or ARGV[2])
    local base = math.max(last, now)
    local f = factor(last, base)
    if f ~= 1 then
      local all = redis.call('HGETALL', key)
      for j = 1, #all, 2 do
        if string.sub(all[j], 1, 2) == 'r:' then
          redis.call('HSET', key, all[j], string.format('%.17g', tonumber(all[j + 1]) * f))
        end
      end
    end
    local fi = factor(tonumber(d.recentAt or base), base)
    for name, v in pairs(d.recent) do redis.call('HINCRBYFLOAT', key, 'r:' .. name, string.format('%.17g', v * fi)) end
    redis.call('HSET', key, 'r@', base)
  end
  if type(d.max) == 'table' then
    for name, v in pairs(d.max) do
      local cur = tonumber(redis.call('HGET', key, 'max:' .. name))
      if cur == nil or v > cur then redis.call('HSET', key, 'max:' .. name, string.format('%.17g', v)) end
    end
  end
  if type(d.row) == 'table' then
    for name, v in pairs(d.row) do
      if v.reset then redis.call('HSET', key, 'row:' .. name, string.format('%.17g', v.add))
      else redis.call('HINCRBYFLOAT', key, 'row:' .. name, string.format('%.17g', v.add)) end
    end
  end
  if type(d.lww) == 'table' then
    for name, v in pairs(d.lww) do
      local cur = tonumber(redis.call('HGET', key, 'lww@' .. name))
      if cur == nil or v.at >= cur then
        redis.call('HSET', key, 'lww:' .. name, v.value, 'lww@' .. name, string.format('%.17g', v.at))
      end
    end
  end
  if type(d.once) == 'table' then
    for name, v in pairs(d.once) do redis.call('HSETNX', key, 'o:' .. name, v) end
  end
  redis.call('HSET', key, '@', ARGV[2])
  if d.expire then redis.call('PEXPIRE', key, ttl) end
  seq = bump(key)
end
return seq
`;

/**
 * pull: KEYS = [epoch, changes, seq]; ARGV = [epoch, cursor, limit, keep]. Returns a flat list: key, sequence, fields
 * (HGETALL; empty when the record is gone: a released lease, an expired retired session), for every record changed
 * after `cursor`, oldest change first; or {'EPOCH', current} like apply. A gone record stays listed (so every worker
 * learns it is gone) until `keep` newer changes were made.
 */
export const PULL_LUA = `
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then return {'EPOCH', epoch or ''} end
local items = redis.call('ZRANGE', KEYS[2], '(' .. ARGV[2], '+inf', 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]), 'WITHSCORES')
local out = {}
local horizon = tonumber(redis.call('GET', KEYS[3]) or '0') - tonumber(ARGV[4])
for i = 1, #items, 2 do
  local key = items[i]
  local fields = redis.call('HGETALL', key)
  if #fields == 0 and tonumber(items[i + 1]) < horizon then redis.call('ZREM', KEYS[2], key) end
  out[#out + 1] = key
  out[#out + 1] = items[i + 1]
  out[#out + 1] = fields
end
return out
`;

/**
 * Counts the live slots of the lease hash KEYS[4] held by others than ARGV[1] (removing expired entries), as
 * a Lua helper shared by lease.lua and renew.lua. A lease field is the worker id; its value "slots:expiresAt".
 */
const OTHERS = `
local function others(key, worker, now)
  local n = 0
  local all = redis.call('HGETALL', key)
  for j = 1, #all, 2 do
    local slots, exp = string.match(all[j + 1], '^(%d+):(%d+)$')
    if exp == nil or tonumber(exp) <= now then redis.call('HDEL', key, all[j])
    elseif all[j] ~= worker then n = n + tonumber(slots) end
  end
  return n
end
local function grant(key, worker, slots, now, ttl)
  redis.call('HSET', key, worker, string.format('%d:%d', slots, now + ttl))
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  bump(key)
end
`;

/**
 * lease: KEYS = [unused, seq, changes, lease]; ARGV = [worker, want, cap, min, now, ttl]. Grants this worker up to
 * `want` slots of the session (never more than `cap` minus what live leases of others hold; at least `min`, else
 * none). Returns {granted, othersSlots}.
 */
export const LEASE_LUA = `${BUMP}${OTHERS}
local now = tonumber(ARGV[5])
local taken = others(KEYS[4], ARGV[1], now)
local g = math.min(tonumber(ARGV[2]), tonumber(ARGV[3]) - taken)
if g < tonumber(ARGV[4]) then return {0, taken} end
grant(KEYS[4], ARGV[1], g, now, tonumber(ARGV[6]))
return {g, taken}
`;

/** release: KEYS = [unused, seq, changes, lease...]; ARGV = [worker]. Drops this worker's leases. Returns how many. */
export const RELEASE_LUA = `${BUMP}
local n = 0
for i = 4, #KEYS do
  if redis.call('HDEL', KEYS[i], ARGV[1]) == 1 then n = n + 1; bump(KEYS[i]) end
end
return n
`;

/**
 * renew: KEYS = [unused, seq, changes, lease...]; ARGV = [worker, now, ttl, slots, caps...] (one slots/cap pair per
 * lease key, as JSON in ARGV[4]). Extends this worker's leases; a lease that expired (or vanished with a Redis
 * restart) is granted again when the session still has room. Returns the indexes (1-based) of the leases lost.
 */
export const RENEW_LUA = `${BUMP}${OTHERS}
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local held = cjson.decode(ARGV[4])
local lost = {}
for i = 4, #KEYS do
  local h = held[i - 3]
  local taken = others(KEYS[i], ARGV[1], now)
  local g = math.min(h[1], h[2] - taken)
  if g < 1 then
    redis.call('HDEL', KEYS[i], ARGV[1])
    lost[#lost + 1] = i - 3
  else
    grant(KEYS[i], ARGV[1], g, now, ttl)
  end
end
return lost
`;
