-- spend_budgets: count one send against every budget, or against none if any is spent.
-- KEYS: one sorted set per budget (score: send time). ARGV: now, member, then per budget
-- limit, window, scope. Reply: false, or {scope, retry_after} of the budget spent longest.
local now = tonumber(ARGV[1])
local member = ARGV[2]
local worst_scope, worst_wait = nil, nil
for i, key in ipairs(KEYS) do
  local base = 3 * (i - 1) + 3
  local limit, window = tonumber(ARGV[base]), tonumber(ARGV[base + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now - window))
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local wait = tonumber(oldest[2]) + window - now
    if worst_wait == nil or wait > worst_wait then
      worst_scope, worst_wait = ARGV[base + 2], wait
    end
  end
end
if worst_wait ~= nil then return {worst_scope, num(worst_wait)} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, num(now), member)
  redis.call('EXPIRE', key, ARGV[3 * (i - 1) + 4])
end
return false
