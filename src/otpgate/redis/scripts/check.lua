-- check_code: APPROVED exactly once, or why not; the (updated) challenge comes with every
-- answer but EXPIRED and an already ended MAX_ATTEMPTS.
-- KEYS: challenge, subject[, state]. ARGV[1] (one argument: this script is the hot path):
-- "now code_digest context_digest max_attempts lockout[ purpose]" (the context digest may be
-- empty). A purpose other than the pending challenge's answers expired, with the challenge,
-- changing nothing. With a state key (then_put: a state write riding on an approval),
-- ARGV[2] and ARGV[3] are a value and its TTL, SET when (and only when) this approves.
local now, code, context, max_attempts, lockout, purpose =
  string.match(ARGV[1], '^(%S+) (%S+) (%S*) (%d+) (%S+) ?(%S*)$')
now, max_attempts = tonumber(now), tonumber(max_attempts)
local values = redis.call('MGET', KEYS[1], KEYS[2])  -- one slot: the same hash tag
-- The hot path first, before the helpers are even defined: a right code for a pending
-- challenge of a subject with no failures (no state) is approved as the full path below
-- would (no lock, no failure to forget), with one match and one write.
-- Lua interns every string, so == compares two pointers: the time taken does not depend
-- on how much of a guess matches (and these are keyed digests, not codes).
local value = values[1]
if value and not values[2] then
  local t, e, d, x, at = string.match(value, '^(%a)|%d+|%d+|[^|]+|([^|]+)|([^|]+)|([^|]*)|()')
  if t == 'p' and d == code and x == context and now < tonumber(e) and (purpose == ''
      or (string.match(value, '^[3-6]|([^|]*)|', at) or string.match(value, '^%[%d+,"([^"]*)"', at))
        == purpose) then
    value = 'a' .. string.sub(value, 2)
    redis.call('SET', KEYS[1], value, 'KEEPTTL')
    if KEYS[3] then redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3]) end
    return 'approved|||0|' .. value
  end
end
-- common.lua's helpers go here (the hot path above never defines them):
-- @helpers
local c = parse_challenge(value)
if c == nil or c.t ~= 'p' then
  if c ~= nil and c.t == 'm' then return outcome('max_attempts', 0) end
  return outcome('expired')
end
if purpose ~= '' and (string.match(c.rest, '^[3-6]|([^|]*)|')
    or string.match(c.rest, '^%[%d+,"([^"]*)"')) ~= purpose then
  return outcome('expired', nil, nil, false, c)
end
-- The lockout policy is read only when the subject has a state, or on a failure.
local policy = values[2] and lockout_of(lockout) or nil
local s = parse_subject(KEYS[2], values[2], now, policy)
if is_locked(s, now) then return outcome('locked', nil, lock_retry_after(s.u, now), false, c) end
if now >= tonumber(c.e) then
  set_status(KEYS[1], c, 'e')
  return outcome('expired')
end
local context_ok = c.x == context
-- A challenge written before code digests were cut to 16 characters (format 4 and earlier)
-- holds 22: their first 16 are the same digest (the hot path above never matches it).
local code_ok = c.d == code or (#c.d == 22 and #code == 16 and string.sub(c.d, 1, 16) == code)
if context_ok and code_ok then
  set_status(KEYS[1], c, 'a')
  if s.f ~= 0 then
    s.f = 0
    redis.call('SET', KEYS[2], subject_text(s), 'KEEPTTL')
  end
  if KEYS[3] then redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3]) end
  return outcome('approved', nil, nil, false, c)
end
local attempts = tonumber(c.a) + 1
c.a = tostring(attempts)
if attempts >= max_attempts then c.t = 'm' end
save_challenge(KEYS[1], c)
policy = policy or lockout_of(lockout)
local locked_now = fail(KEYS[2], s, now, policy)
local result = 'invalid'
if c.t == 'm' then
  result = 'max_attempts'
elseif not context_ok then
  result = 'context_mismatch'
end
return outcome(result, max_attempts - attempts, retry_if(locked_now, s, now), locked_now, c)
