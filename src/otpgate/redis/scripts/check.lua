-- check_code: APPROVED exactly once, or why not; the (updated) record comes with every
-- answer but EXPIRED and an already ended MAX_ATTEMPTS.
-- KEYS: challenge, subject. ARGV: now, code digest, context digest, max attempts, lockout.
local now = tonumber(ARGV[1])
local r = load_challenge(KEYS[1])
if r == nil or r.t ~= 'p' then
  if r ~= nil and r.t == 'm' then return outcome('max_attempts', 0) end
  return outcome('expired')
end
local policy = lockout_at(5)
local s = load_subject(KEYS[2], now, policy)
if is_locked(s, now) then return outcome('locked', nil, lock_retry_after(s.u, now), false, r) end
if now >= tonumber(r.e) then
  redis.call('HSET', KEYS[1], 't', 'e')
  return outcome('expired')
end
local context_ok = same(r.x or '', ARGV[3])
local code_ok = same(r.d, ARGV[2])
if context_ok and code_ok then
  r.t = 'a'
  redis.call('HSET', KEYS[1], 't', 'a')
  if s.f ~= 0 then redis.call('HSET', KEYS[2], 'f', '0') end
  return outcome('approved', nil, nil, false, r)
end
local max_attempts = tonumber(ARGV[4])
local attempts = tonumber(r.a) + 1
local status = 'p'
if attempts >= max_attempts then status = 'm' end
r.a, r.t = tostring(attempts), status
redis.call('HSET', KEYS[1], 'a', r.a, 't', r.t)
local locked_now = fail(KEYS[2], s, now, policy)
local result = 'invalid'
if status == 'm' then
  result = 'max_attempts'
elseif not context_ok then
  result = 'context_mismatch'
end
return outcome(result, max_attempts - attempts, retry_if(locked_now, s, now), locked_now, r)
