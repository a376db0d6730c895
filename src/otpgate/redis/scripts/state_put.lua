-- put_state: keep a session/token state (replacing any). KEYS: the state key.
-- ARGV: the value, its TTL in seconds (0 or less: forget any value).
local ttl = tonumber(ARGV[2])
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
end
return false
