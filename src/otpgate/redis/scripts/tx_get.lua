-- get_transaction: a transaction's record as stored (the client reads it as at `now`).
-- KEYS: the transaction. Reply: the record's string, or false.
return redis.call('GET', KEYS[1])
