-- settle_attempt: record a TOTP or recovery check the verifier decided.
-- KEYS: subject[, state]. ARGV[1] (one argument: a hot path): "now success(1/0) step lockout",
-- the TOTP step empty for none. With a state key (then_put), ARGV[2] and ARGV[3] are a value
-- and its TTL: SET on approval only (nothing else answers "approved").
local now, success, step, lockout = string.match(ARGV[1], '^(%S+) ([01]) (%S*) (%S+)$')
now, success, step = tonumber(now), success == '1', tonumber(step)
local policy = lockout_of(lockout)
local s = load_subject(KEYS[1], now, policy)
if is_locked(s, now) then return outcome('locked', nil, lock_retry_after(s.u, now), false) end
if success and step ~= nil and step <= s.t then
  local locked_now = fail(KEYS[1], s, now, policy)
  return outcome('replayed', nil, retry_if(locked_now, s, now), locked_now)
end
if success then
  if step ~= nil then
    s.f, s.t = 0, step
    save_subject(KEYS[1], s, policy)
  elseif s.f ~= 0 then
    s.f = 0
    redis.call('SET', KEYS[1], subject_text(s), 'KEEPTTL')
  end
  if KEYS[2] then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
  return outcome('approved')
end
local locked_now = fail(KEYS[1], s, now, policy)
return outcome('invalid', nil, retry_if(locked_now, s, now), locked_now)
