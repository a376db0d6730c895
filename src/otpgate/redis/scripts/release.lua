-- release_budgets: give back one send (see otpgate/redis/budgets.py). KEYS: the budgets of
-- one slot, then its watched ranges. ARGV: the send's member, now, the number of budgets,
-- then per budget its part, then per watched range 1 if the send was counted there. A budget
-- that never counted the send is left as it is; a range's counts never go below zero.
-- The member as budgets.lua noted it: "part." and the token's first 8 characters, or (a
-- family without a part) the token, or its integer if that holds this send's second (then
-- the integer was free, as it is taken only for one send at a time). A release of a call
-- that failed (it may not have run) comes without the integer (".token"): the token only.
local budgets, now = tonumber(ARGV[3]), tonumber(ARGV[2])
local short, member = string.match(ARGV[1], '^(-?%d*)%.(.+)$')
local second = math.ceil(math.floor(now * 1000000 + 0.5) / 1000000)
for i = 1, budgets do
  local part = ARGV[3 + i]
  if part ~= '' then
    redis.call('ZREM', KEYS[i], part .. '.' .. string.sub(member, 1, 8))
  elseif redis.call('ZREM', KEYS[i], member) == 0 and short ~= ''
      and tonumber(redis.call('ZSCORE', KEYS[i], short)) == second then
    redis.call('ZREM', KEYS[i], short)
  end
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
