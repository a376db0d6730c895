-- release_budgets: give back one send (see otpgate/redis/budgets.py). KEYS: budgets of one
-- slot. ARGV: the send's member. A key that never counted it is left as it is.
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return false
