-- unlock: forget a subject's failures and lift any lock. KEYS: subject.
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'f', '0', 'u', '0')
end
return false
