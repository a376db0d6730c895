-- create_challenge: keep the record unless the subject is locked.
-- KEYS: challenge, subject. ARGV: now, ttl, lockout, then the record's field/value pairs.
local now = tonumber(ARGV[1])
local policy = lockout_at(3)
local s = load_subject(KEYS[2], now, policy)
if is_locked(s, now) then return outcome('locked', nil, lock_retry_after(s.u, now), false) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return outcome('ok')
