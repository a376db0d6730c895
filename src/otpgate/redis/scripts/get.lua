-- get_challenge: the record's field/value pairs (empty once it is gone).
return redis.call('HGETALL', KEYS[1])
