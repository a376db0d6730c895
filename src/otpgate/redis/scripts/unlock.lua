-- unlock: forget a subject's failures and lift any lock (soft or hard). KEYS: subject.
local value = redis.call('GET', KEYS[1])
if value then
  local f, u, l, t = string.match(value, '^([^|]+)|([^|]+)|([^|]+)|([^|]+)$')
  assert(f, 'otpgate: unreadable subject')
  redis.call('SET', KEYS[1], table.concat({'0', '0', l, t}, '|'), 'KEEPTTL')
end
return false
