-- create_challenge: keep the challenge unless the subject is locked.
-- KEYS: challenge, subject. ARGV: now, ttl, lockout, the challenge's text.
local now = tonumber(ARGV[1])
local policy = lockout_of(ARGV[3])
local s = load_subject(KEYS[2], now, policy)
if is_locked(s, now) then return outcome('locked', nil, lock_retry_after(s.u, now), false) end
redis.call('SET', KEYS[1], ARGV[4], 'EX', ARGV[2])
return outcome('ok')
