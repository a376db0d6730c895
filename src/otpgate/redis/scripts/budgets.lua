-- spend_budgets: count one send against every budget, or against none if any is spent; and
-- the SMS pumping guard's watched ranges (otpgate.core.pumping, line for line).
-- KEYS: per budget its family's sorted set (score: send time; budgets of one family name the
-- same key), then one hash per watched range.
-- ARGV: now, member, the number of budgets, then per budget limit, window, scope, part, then
-- per watch scope, label, floor, fresh, window, surge, min_conversion, min_sample, block,
-- trusted, count, verified, keep.
-- Reply: false; {scope, retry_after} of the budget spent longest, or of the blocked range;
-- or, when this send starts a block, {scope, retry_after, label, sends, settled, verified,
-- limit, baseline, horizon}.
local now = tonumber(ARGV[1])
-- A budget's score: the send time in whole microseconds (a listpack stores it as an
-- integer, 16 bytes less per key than its decimal text); as MemoryStore counts. The member:
-- "<a random 13-bit integer>.<a random token>". A family whose budgets name a part records
-- the send as "part." and the token's first 8 characters; a budget with a part counts only
-- the members of its part (a subject's record holds its numbers' budgets too). A family
-- without a part (a number's enrollment, a network's, a country's: a key that mostly holds
-- one send) records it under the integer, or the token if another send holds that one, at
-- the whole second at or after it (4 bytes each instead of 8 and 9: its listpack takes 16
-- bytes, not 32): such a send counts up to a second longer, never less.
local micros = math.floor(now * 1000000 + 0.5)
local short, member = string.match(ARGV[2], '^(-?%d+)%.(.+)$')
local second = math.ceil(micros / 1000000)
local budgets = tonumber(ARGV[3])
local MINUTE, HOUR, BASELINE_HOURS, SETTLE_MINUTES = 60, 3600, 23, 2
local minute, hour = math.floor(now / MINUTE), math.floor(now / HOUR)

-- Watched ranges: read, drop what left the window and the baseline, add verified codes.
local watches = {}
for j = budgets + 1, #KEYS do
  local b = 4 + 4 * budgets + 13 * (j - budgets - 1)
  local w = {
    key = KEYS[j], scope = ARGV[b], label = ARGV[b + 1], floor = tonumber(ARGV[b + 2]),
    fresh = tonumber(ARGV[b + 3]), window = tonumber(ARGV[b + 4]),
    surge = tonumber(ARGV[b + 5]), min_conversion = tonumber(ARGV[b + 6]),
    min_sample = tonumber(ARGV[b + 7]), block = tonumber(ARGV[b + 8]),
    trusted = ARGV[b + 9] == '1', count = ARGV[b + 10] == '1',
    verified = tonumber(ARGV[b + 11]), keep = ARGV[b + 12], fields = {}, blocked = 0,
  }
  local flat = redis.call('HGETALL', w.key)
  local oldest, stale = minute - math.floor(w.window / MINUTE), {}
  for i = 1, #flat, 2 do
    local name, kind = flat[i], string.sub(flat[i], 1, 1)
    if kind == 's' or kind == 'v' or kind == 'h' or kind == 'g' then
      local stamp = tonumber(string.sub(name, 2))
      local by_minute = kind == 's' or kind == 'v'
      if (by_minute and stamp <= oldest) or (not by_minute and stamp < hour - BASELINE_HOURS - 1) then
        stale[#stale + 1] = name
      else
        w.fields[#w.fields + 1] = {kind, stamp, tonumber(flat[i + 1])}
      end
    elseif kind == 'b' then
      w.blocked = tonumber(flat[i + 1])
    end
  end
  if #stale > 0 then redis.call('HDEL', w.key, unpack(stale)) end
  if w.verified > 0 then
    redis.call('HINCRBY', w.key, 'v' .. minute, w.verified)
    redis.call('HINCRBY', w.key, 'g' .. hour, w.verified)
    w.fields[#w.fields + 1] = {'v', minute, w.verified}
    w.fields[#w.fields + 1] = {'g', hour, w.verified}
    redis.call('HSET', w.key, 'p', w.label)
    redis.call('EXPIRE', w.key, w.keep)
  end
  watches[#watches + 1] = w
end

-- Budgets: a family (the budgets of one key) shares one record of sends, kept for its
-- longest window; each budget counts the sends of its own window. The one spent longest
-- refuses the send.
local longest, parts = {}, {}
for i = 1, budgets do
  local window, part = tonumber(ARGV[4 * (i - 1) + 5]), ARGV[4 * i + 3]
  if (longest[KEYS[i]] or 0) < window then longest[KEYS[i]] = window end
  if part ~= '' and not parts[KEYS[i]] then parts[KEYS[i]] = part .. '.' end
end
-- A bound in microseconds as a family's score: a send at second s is after it if s is.
local function bound(key, at)
  if parts[key] then return at end
  return math.floor(at / 1000000)
end
local trimmed = {}
for i = 1, budgets do
  if not trimmed[KEYS[i]] then
    trimmed[KEYS[i]] = true
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf',
      num(bound(KEYS[i], micros - longest[KEYS[i]] * 1000000)))
  end
end
local worst_scope, worst_wait = nil, nil
for i = 1, budgets do
  local key, base = KEYS[i], 4 * (i - 1) + 4
  local limit, window, part = tonumber(ARGV[base]), tonumber(ARGV[base + 1]), ARGV[base + 3]
  local since = '(' .. num(bound(key, micros - window * 1000000))
  local oldest = nil
  if part == '' then
    local count = redis.call('ZCOUNT', key, since, '+inf')
    if count >= limit then
      oldest = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES', 'LIMIT',
        count - limit, 1)[2]
    end
  else
    -- The part's sends in the window, oldest first (a subject's record holds a few).
    local prefix, times = part .. '.', {}
    local flat = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES')
    for k = 1, #flat, 2 do
      if string.sub(flat[k], 1, #prefix) == prefix then times[#times + 1] = flat[k + 1] end
    end
    if #times >= limit then oldest = times[#times - limit + 1] end
  end
  if oldest ~= nil then
    local sent = tonumber(oldest)
    if not parts[key] then sent = sent * 1000000 end
    local wait = (sent - micros) / 1000000 + window
    if worst_wait == nil or wait > worst_wait then
      worst_scope, worst_wait = ARGV[base + 2], wait
    end
  end
end
if worst_wait ~= nil then return {worst_scope, num(worst_wait)} end

-- Watched ranges: the first that refuses (blocked, or blocked by this send) answers.
local function refused(sends, settled, verified, limit, w)
  return sends + 1 > limit and settled >= math.min(w.min_sample, limit)
    and verified * 100 < w.min_conversion * settled
end
for _, w in ipairs(watches) do
  if w.count and not w.trusted then
    if w.blocked > now then return {w.scope, num(w.blocked - now)} end
    local recent, settled, verified, baseline, day, day_verified = 0, 0, 0, 0, 0, 0
    for _, f in ipairs(w.fields) do
      local kind, stamp, value = f[1], f[2], f[3]
      if kind == 's' then
        recent = recent + value
        if stamp <= minute - SETTLE_MINUTES then settled = settled + value end
      elseif kind == 'v' then
        verified = verified + value
      elseif kind == 'h' then
        if stamp <= hour - 2 then baseline = baseline + value end
        if stamp >= hour - BASELINE_HOURS then day = day + value end
      elseif stamp >= hour - BASELINE_HOURS then
        day_verified = day_verified + value
      end
    end
    local span = BASELINE_HOURS * HOUR
    local limit = math.floor((w.surge * baseline * w.window + span - 1) / span)
    local floor = w.fresh
    if baseline > 0 then floor = w.floor end
    if floor > limit then limit = floor end
    local horizon, block = w.window, refused(recent, settled, verified, limit, w)
    if not block then
      limit, horizon = floor, (BASELINE_HOURS + 1) * HOUR
      recent, settled, verified = day, day - (recent - settled), day_verified
      block = refused(recent, settled, verified, limit, w)
    end
    if block then
      local untill = math.ceil(now) + w.block
      redis.call('HSET', w.key, 'b', untill, 'p', w.label)
      redis.call('EXPIRE', w.key, w.keep)
      return {w.scope, num(untill - now), w.label, recent, settled, verified, limit, baseline,
        horizon}
    end
  end
end

for i = 1, budgets do
  if trimmed[KEYS[i]] then
    trimmed[KEYS[i]] = nil
    if parts[KEYS[i]] then
      redis.call('ZADD', KEYS[i], num(micros), parts[KEYS[i]] .. string.sub(member, 1, 8))
    elseif redis.call('ZADD', KEYS[i], 'NX', num(second), short) == 0 then
      redis.call('ZADD', KEYS[i], num(second), member)
    end
    redis.call('EXPIRE', KEYS[i], longest[KEYS[i]])
  end
end
for _, w in ipairs(watches) do
  if w.count then
    redis.call('HINCRBY', w.key, 's' .. minute, 1)
    redis.call('HINCRBY', w.key, 'h' .. hour, 1)
    redis.call('HSET', w.key, 'p', w.label)
    redis.call('EXPIRE', w.key, w.keep)
  end
end
return false
