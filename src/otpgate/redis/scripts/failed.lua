-- mark_send_failed: status failed, the cooldown of that send given back. KEYS: challenge. ARGV: now.
if redis.call('HGET', KEYS[1], 't') == 'p' then
  redis.call('HSET', KEYS[1], 't', 'f', 'w', ARGV[1])
end
return false
