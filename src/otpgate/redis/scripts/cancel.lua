-- cancel: a pending (or failed) challenge becomes canceled. KEYS: challenge. Reply: 1 or 0.
local status = redis.call('HGET', KEYS[1], 't')
if status ~= 'p' and status ~= 'f' then return 0 end
redis.call('HSET', KEYS[1], 't', 'c')
return 1
