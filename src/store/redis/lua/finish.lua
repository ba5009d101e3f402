-- Records one delivery attempt and what happens next.
-- ARGV: event id, attempt JSON, result (delivered|retry|failed), retry at, now.
-- A redeliver asked for during the attempt (redeliver.lua set `redeliver`)
-- queues the event once more now, after this attempt: never dropped, never
-- overlapping it. Once an event is done, the next pending event of its
-- transaction (which claim.lua moved behind it) is due at once.
local eid, attempt, result, at, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ek = P .. 'event:' .. eid
local outbox = P .. 'outbox'
if redis.call('EXISTS', ek) == 0 then return 0 end
redis.call('RPUSH', ek .. ':attempts', attempt)
local again = redis.call('HGET', ek, 'redeliver')
redis.call('HDEL', ek, 'lease_until', 'redeliver')
if result == 'retry' then
  redis.call('HSET', ek, 'state', 'pending', 'next_attempt_at', at)
  redis.call('ZADD', outbox, at, eid)
elseif again then
  redis.call('HSET', ek, 'state', 'pending', 'next_attempt_at', now)
  redis.call('ZADD', outbox, now, eid)
else
  redis.call('HSET', ek, 'state', result)
  redis.call('HDEL', ek, 'next_attempt_at')
  redis.call('ZREM', outbox, eid)
  local txid = redis.call('HGET', ek, 'transaction_id')
  local after = false
  for _, later in ipairs(redis.call('LRANGE', P .. 'tx:' .. txid .. ':events', 0, -1)) do
    if after and redis.call('HGET', P .. 'event:' .. later, 'state') == 'pending' then
      local score = redis.call('ZSCORE', outbox, later)
      if score and tonumber(score) > tonumber(now) then
        redis.call('ZADD', outbox, now, later)
      end
      break
    end
    if later == eid then after = true end
  end
end
return 1
