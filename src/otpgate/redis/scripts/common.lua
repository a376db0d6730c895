-- otpgate: helpers shared by the scripts (each script gets the ones it uses, in front or at its
-- "-- @helpers" line: see otpgate/redis/lua.py).
-- Every decision uses the `now` passed in, never the server's clock: TTLs only reclaim
-- memory. The arithmetic mirrors otpgate.core.policy and MemoryStore line for line.
--
-- A challenge is one string (see records.py): "t|a|r|w|e|d|x|rest" with t the status
-- (p pending, a approved, c canceled, e expired, m max attempts, f failed), a attempts,
-- r sends, w next_send_at, e expires_at, d code digest, x context digest, and rest the
-- fields no script reads (purpose, masked phone, sealed subject, phone, code, ...) as the
-- client wrote them: nothing personal in clear (see otpgate.core.sealed).
-- A subject is one string too: "f|u|l|t", failures, locked_until (-1: hard lock), last
-- failure, last accepted TOTP step. Both share a hash tag, so one MGET reads both.

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

-- A challenge from its string (false: none). `text` is the stored string: change fields
-- only to save_challenge them, which keeps it current for the reply.
local function parse_challenge(value)
  if not value then return nil end
  local t, a, r, w, e, d, x, rest =
    string.match(value, '^(%a)|(%d+)|(%d+)|([^|]+)|([^|]+)|([^|]+)|([^|]*)|(.*)$')
  assert(t, 'otpgate: unreadable challenge')
  return {t = t, a = a, r = r, w = w, e = e, d = d, x = x, rest = rest, text = value}
end

local function load_challenge(key)
  return parse_challenge(redis.call('GET', key))
end

local function challenge_text(c)
  return table.concat({c.t, c.a, c.r, c.w, c.e, c.d, c.x, c.rest}, '|')
end

-- Write the challenge back (its TTL kept); its text, for the reply.
local function save_challenge(key, c)
  c.text = challenge_text(c)
  redis.call('SET', key, c.text, 'KEEPTTL')
  return c.text
end

-- Only the status changes (the first character of the text): no need to rebuild it.
local function set_status(key, c, t)
  c.t = t
  c.text = t .. string.sub(c.text, 2)
  redis.call('SET', key, c.text, 'KEEPTTL')
end

-- The reply of an outcome, one string the client splits at its first 11 "|":
-- result|attempts_left|retry_after|locked_now[|challenge]. Empty means none.
local function outcome(result, attempts_left, retry_after, locked_now, c)
  local head = result .. '|' .. (attempts_left or '') .. '|' .. (retry_after or '') .. '|'
    .. (locked_now and '1' or '0')
  if c then return head .. '|' .. (c.text or challenge_text(c)) end
  return head
end

-- LockoutPolicy from "after,base,maximum,hard_after,memory".
local function lockout_of(text)
  local after, base, maximum, hard_after, memory =
    string.match(text, '^(%d+),(%d+),(%d+),(%d+),(%d+)$')
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
  if until_ == HARD_LOCK then return nil end
  return num(math.max(0, until_ - now))
end

local function subject_text(s)
  return table.concat({tostring(s.f), num(s.u), num(s.l), tostring(s.t)}, '|')
end

-- A subject's state from its string (false: none yet); failures are forgotten `memory`
-- seconds after the last one, unless it is a hard lock.
local function parse_subject(key, value, now, policy)
  local s = {f = 0, u = 0, l = 0, t = -1}
  if not value then return s end
  local f, u, l, t = string.match(value, '^([^|]+)|([^|]+)|([^|]+)|([^|]+)$')
  assert(f, 'otpgate: unreadable subject')
  s.f, s.u, s.l, s.t = tonumber(f), tonumber(u), tonumber(l), tonumber(t)
  if s.f ~= 0 and now - s.l >= policy.memory and s.u ~= HARD_LOCK then
    s.f, s.u = 0, 0
    redis.call('SET', key, subject_text(s), 'KEEPTTL')
  end
  return s
end

local function load_subject(key, now, policy)
  return parse_subject(key, redis.call('GET', key), now, policy)
end

local function is_locked(s, now)
  return s.u == HARD_LOCK or s.u > now
end

local function subject_ttl(s, policy)
  if s.u == HARD_LOCK then return HARD_LOCK_TTL end
  return math.max(policy.memory, TOTP_GUARD)
end

local function save_subject(key, s, policy)
  redis.call('SET', key, subject_text(s), 'EX', subject_ttl(s, policy))
end

-- Count one failure; true if it started (or hardened) a lock.
local function fail(key, s, now, policy)
  s.f = s.f + 1
  s.l = now
  s.u = locked_until(policy, s.f, now)
  save_subject(key, s, policy)
  return s.u ~= 0
end

local function retry_if(locked_now, s, now)
  if locked_now then return lock_retry_after(s.u, now) end
  return nil
end
