-- release_budgets: give back one send (see otpgate/redis/budgets.py). KEYS: the budgets of
-- one slot, then its watched ranges. ARGV: the send's member, now, the number of budgets,
-- then per budget its part, then per watched range 1 if the send was counted there. A budget
-- that never counted the send is left as it is; a range's counts never go below zero.
local budgets, now = tonumber(ARGV[3]), tonumber(ARGV[2])
for i = 1, budgets do
  local part = ARGV[3 + i]
  if part == '' then redis.call('ZREM', KEYS[i], ARGV[1])
  else redis.call('ZREM', KEYS[i], part .. '.' .. string.sub(ARGV[1], 1, 8)) end
end
local fields = {'s' .. math.floor(now / 60), 'h' .. math.floor(now / 3600)}
for j = budgets + 1, #KEYS do
  if ARGV[3 + j] == '1' then
    for _, name in ipairs(fields) do
      local value = tonumber(redis.call('HGET', KEYS[j], name) or '0')
      if value > 0 then redis.call('HINCRBY', KEYS[j], name, -1) end
    end
  end
end
return false
