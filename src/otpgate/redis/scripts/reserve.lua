-- reserve_send: count a resend. KEYS: challenge. ARGV: now, cooldown base, max sends.
local now = tonumber(ARGV[1])
local c = load_challenge(KEYS[1])
if c == nil or (c.t ~= 'p' and c.t ~= 'f') then return outcome('expired') end
if now >= tonumber(c.e) then
  c.t = 'e'
  save_challenge(KEYS[1], c)
  return outcome('expired')
end
local sends = tonumber(c.r)
if sends >= tonumber(ARGV[3]) then return outcome('max_sends') end
local next_send = tonumber(c.w)
if now < next_send then return outcome('cooldown', nil, num(next_send - now), false) end
sends = sends + 1
c.r, c.t = tostring(sends), 'p'
c.w = num(now + tonumber(ARGV[2]) * 2 ^ math.max(0, sends - 1))
save_challenge(KEYS[1], c)
return outcome('ok', nil, nil, false, c)
