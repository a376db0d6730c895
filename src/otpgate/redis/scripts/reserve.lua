-- reserve_send: count a resend. KEYS: challenge. ARGV: now, cooldown base, max sends.
local now = tonumber(ARGV[1])
local r = load_challenge(KEYS[1])
if r == nil or (r.t ~= 'p' and r.t ~= 'f') then return outcome('expired') end
if now >= tonumber(r.e) then
  redis.call('HSET', KEYS[1], 't', 'e')
  return outcome('expired')
end
local sends = tonumber(r.r)
if sends >= tonumber(ARGV[3]) then return outcome('max_sends') end
local next_send = tonumber(r.w)
if now < next_send then return outcome('cooldown', nil, num(next_send - now), false) end
sends = sends + 1
r.r, r.t = tostring(sends), 'p'
r.w = num(now + tonumber(ARGV[2]) * 2 ^ math.max(0, sends - 1))
redis.call('HSET', KEYS[1], 'r', r.r, 't', r.t, 'w', r.w)
return outcome('ok', nil, nil, false, r)
