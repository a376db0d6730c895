-- get_state: the session/token state kept under a keyed digest. KEYS: the state key.
-- Reply: the value, or false.
return redis.call('GET', KEYS[1])
