-- otpgate: helpers shared by every script (this file is prepended to each one).
-- Every decision uses the `now` passed in (ARGV[1]), never the server's clock: TTLs only
-- reclaim memory. The arithmetic mirrors otpgate.core.policy and MemoryStore line for line.
--
-- Challenge hash fields: s subject, p purpose, n phone, d code digest, k sealed code,
-- c created_at, e expires_at, w next_send_at, x context digest, m summary, l locale,
-- t status (p pending, a approved, c canceled, e expired, m max attempts, f failed),
-- a attempts, r sends.
-- Subject hash fields: f failures, u locked_until (-1: hard lock), l last failure, t last TOTP step.

local HARD_LOCK = -1
local HARD_LOCK_TTL = 90 * 86400
local TOTP_GUARD = 900

-- The shortest decimal text that reads back as the same double.
local function num(x)
  local s = string.format('%.15g', x)
  if tonumber(s) ~= x then
    s = string.format('%.16g', x)
    if tonumber(s) ~= x then s = string.format('%.17g', x) end
  end
  return s
end

-- Constant-time comparison of two digests.
local function same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
  end
  return diff == 0
end

local function load_challenge(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local r = {}
  for i = 1, #flat, 2 do r[flat[i]] = flat[i + 1] end
  return r
end

-- The reply of an outcome, as one JSON array (a single bulk string is far cheaper for the
-- client to read than a RESP array): result, attempts_left, retry_after, locked_now, then
-- the record's field/value pairs.
local function outcome(result, attempts_left, retry_after, locked_now, record)
  local reply = {result, attempts_left or false, retry_after or false, locked_now and 1 or 0}
  if record then
    for field, value in pairs(record) do
      reply[#reply + 1] = field
      reply[#reply + 1] = value
    end
  end
  return cjson.encode(reply)
end

-- LockoutPolicy from ARGV[i], "after,base,maximum,hard_after,memory".
local function lockout_at(i)
  local after, base, maximum, hard_after, memory =
    string.match(ARGV[i], '^(%d+),(%d+),(%d+),(%d+),(%d+)$')
  return {
    after = tonumber(after), base = tonumber(base), maximum = tonumber(maximum),
    hard_after = tonumber(hard_after), memory = tonumber(memory),
  }
end

local function locked_until(policy, failures, now)
  if failures >= policy.hard_after then return HARD_LOCK end
  if failures >= policy.after then
    return now + math.min(policy.base * 2 ^ (failures - policy.after), policy.maximum)
  end
  return 0
end

local function lock_retry_after(until_, now)
  if until_ == HARD_LOCK then return false end
  return num(math.max(0, until_ - now))
end

-- A subject's state; failures are forgotten `memory` seconds after the last one (not a hard lock).
local function load_subject(key, now, policy)
  local v = redis.call('HMGET', key, 'f', 'u', 'l', 't')
  local s = {
    f = tonumber(v[1]) or 0, u = tonumber(v[2]) or 0, l = tonumber(v[3]) or 0,
    t = tonumber(v[4]) or -1,
  }
  if s.f ~= 0 and now - s.l >= policy.memory and s.u ~= HARD_LOCK then
    s.f, s.u = 0, 0
    redis.call('HSET', key, 'f', '0', 'u', '0')
  end
  return s
end

local function is_locked(s, now)
  return s.u == HARD_LOCK or s.u > now
end

local function subject_ttl(s, policy)
  if s.u == HARD_LOCK then return HARD_LOCK_TTL end
  return math.max(policy.memory, TOTP_GUARD)
end

-- Count one failure; true if it started (or hardened) a lock.
local function fail(key, s, now, policy)
  s.f = s.f + 1
  s.l = now
  s.u = locked_until(policy, s.f, now)
  redis.call('HSET', key, 'f', tostring(s.f), 'u', num(s.u), 'l', num(now))
  redis.call('EXPIRE', key, subject_ttl(s, policy))
  return s.u ~= 0
end

local function retry_if(locked_now, s, now)
  if locked_now then return lock_retry_after(s.u, now) end
  return false
end
