-- settle_attempt: record a TOTP or recovery check the verifier decided.
-- KEYS: subject. ARGV: now, success (1/0), TOTP step ('' for none), lockout.
local now = tonumber(ARGV[1])
local policy = lockout_at(4)
local s = load_subject(KEYS[1], now, policy)
if is_locked(s, now) then return outcome('locked', nil, lock_retry_after(s.u, now), false) end
local success = ARGV[2] == '1'
local step = tonumber(ARGV[3])
if success and step ~= nil and step <= s.t then
  local locked_now = fail(KEYS[1], s, now, policy)
  return outcome('replayed', nil, retry_if(locked_now, s, now), locked_now)
end
if success then
  if step ~= nil then
    redis.call('HSET', KEYS[1], 'f', '0', 't', ARGV[3])
    redis.call('EXPIRE', KEYS[1], subject_ttl(s, policy))
  elseif s.f ~= 0 then
    redis.call('HSET', KEYS[1], 'f', '0')
  end
  return outcome('approved')
end
local locked_now = fail(KEYS[1], s, now, policy)
return outcome('invalid', nil, retry_if(locked_now, s, now), locked_now)
