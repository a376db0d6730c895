-- put_state: keep a session/token state (replacing any). KEYS: the state key.
-- ARGV: the value, its TTL in seconds.
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return false
