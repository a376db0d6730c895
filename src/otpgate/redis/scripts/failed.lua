-- mark_send_failed: status failed, the cooldown of that send given back. KEYS: challenge. ARGV: now.
local c = load_challenge(KEYS[1])
if c ~= nil and c.t == 'p' then
  c.t, c.w = 'f', ARGV[1]
  save_challenge(KEYS[1], c)
end
return false
