-- Records one delivery attempt and what happens next.
-- ARGV: event id, attempt JSON, result (delivered|retry|failed), retry at.
local eid, attempt, result, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ek = P .. 'event:' .. eid
if redis.call('EXISTS', ek) == 0 then return 0 end
redis.call('RPUSH', ek .. ':attempts', attempt)
if result == 'retry' then
  redis.call('HSET', ek, 'state', 'pending', 'next_attempt_at', at)
  redis.call('ZADD', P .. 'outbox', at, eid)
else
  redis.call('HSET', ek, 'state', result)
  redis.call('HDEL', ek, 'next_attempt_at')
  redis.call('ZREM', P .. 'outbox', eid)
end
return 1
