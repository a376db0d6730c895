-- get_challenge: the record's field/value pairs as a JSON array, or false once it is gone.
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return false end
return cjson.encode(flat)
