-- step_transaction: one step of a transaction's life. This is
-- otpgate.core.transactions.advance line for line (MemoryStore runs that under its lock).
-- A transaction is one string "s|c|p|e|a|u|o": s the state (p pending, c confirmed,
-- x executed, f failed, e expired, n canceled), c the challenge id, p the proof (a keyed
-- digest of the accepted code), e expires_at, a wrong codes on retry, u updated_at, o the
-- recorded outcome (compact JSON, last: it may hold "|").
-- KEYS: the transaction. ARGV: now, kind, challenge id, proof, expires_at, success (1/0),
-- max_attempts, keep (the TTL of a written record), outcome.
-- Reply: "answer|" or "answer|record" (the record after the step, as it reads now).
local now = tonumber(ARGV[1])
local kind, cid, proof, expires_at = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local success, max_attempts, keep, result = ARGV[6] == '1', tonumber(ARGV[7]), ARGV[8], ARGV[9]

local r = nil
local value = redis.call('GET', KEYS[1])
if value then
  local s, c, p, e, a, u, o =
    string.match(value, '^(%a)|([^|]*)|([^|]*)|([^|]+)|(%d+)|([^|]+)|(.*)$')
  assert(s, 'otpgate: unreadable transaction')
  r = {s = s, c = c, p = p, e = e, a = tonumber(a), u = u, o = o}
  if (r.s == 'p' or r.s == 'f') and now >= tonumber(r.e) then r.s = 'e' end
end

local function text(x)
  return table.concat({x.s, x.c, x.p, x.e, tostring(x.a), x.u, x.o}, '|')
end

local function reply(answer, x)
  if x then return answer .. '|' .. text(x) end
  return answer .. '|'
end

local function write(answer, x)
  x.u = ARGV[1]
  redis.call('SET', KEYS[1], text(x), 'EX', tonumber(keep))
  if answer == nil then
    if x.s == 'e' then answer = 'expired' else answer = 'ok' end
  end
  return reply(answer, x)
end

local state = r and r.s
if kind == 'cancel' then
  if not r or (state ~= 'p' and state ~= 'f') then return reply('stale', r) end
  r.s = 'n'
  return write(nil, r)
end
if kind == 'settle' then
  if not r or state ~= 'c' or r.c ~= cid then return reply('stale', r) end
  if success then
    r.s, r.o = 'x', result
  else
    r.s, r.a = 'f', 0
  end
  return write(nil, r)
end
if state == 'x' then return reply('executed', r) end
if state == 'c' then return reply('in_progress', r) end
if kind == 'approve' then
  if not r or (state ~= 'p' and state ~= 'f') or r.c ~= cid then return reply('expired', r) end
  r.s, r.p, r.a = 'c', proof, 0
  return write(nil, r)
end
if kind == 'begin' then
  return write(nil, {s = 'p', c = cid, p = '', e = expires_at, a = 0, u = '', o = ''})
end
if kind == 'claim' then
  if r and state == 'n' and r.c == cid then return reply('expired', r) end
  -- The confirmation lives as long as its code: as given, else as the pending record.
  local e = expires_at
  if tonumber(e) == 0 and r and r.c == cid then e = r.e end
  return write(nil, {s = 'c', c = cid, p = proof, e = e, a = 0, u = '', o = ''})
end
-- retry: only a failed execution of this very challenge, with its code, in its lifetime.
-- Still pending on this challenge while its code no longer checks: another request has just
-- checked it and is about to claim the execution.
if r and state == 'p' and r.c == cid then return reply('in_progress', r) end
if not r or state ~= 'f' or r.c ~= cid then return reply('expired', r) end
if r.p ~= proof then
  r.a = r.a + 1
  if r.a >= max_attempts then
    r.s = 'e'
    return write(nil, r)
  end
  return write('invalid', r)
end
r.s = 'c'
return write(nil, r)
