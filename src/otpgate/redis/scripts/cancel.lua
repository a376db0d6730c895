-- cancel: a pending (or failed) challenge becomes canceled. KEYS: challenge. Reply: 1 or 0.
local c = load_challenge(KEYS[1])
if c == nil or (c.t ~= 'p' and c.t ~= 'f') then return 0 end
c.t = 'c'
save_challenge(KEYS[1], c)
return 1
