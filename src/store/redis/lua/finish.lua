-- Records one delivery attempt and what happens next.
-- ARGV: event id, claim token, attempt JSON, result (delivered|retry|failed),
-- retry at, now.
-- Only the latest claim (claim.lua counts them in `claims`) decides: a worker
-- whose lease ran out and whose event was claimed again only adds its attempt
-- to the record, so it neither ends the newer claim's lease (a redeliver
-- would then start a second delivery beside it) nor overrides its outcome.
-- A redeliver asked for during the attempt (redeliver.lua set `redeliver`)
-- queues the event once more now, after this attempt, with its retries again
-- (`series`): never dropped, never overlapping it. Once an event is done, the
-- next pending event of its transaction (which claim.lua moved behind it) is
-- due at once. Answers 1 when the attempt's result stands, 0 when a newer
-- claim decides or a redeliver queued the event again.
local eid, claim, attempt, result, at, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local ek = P .. 'event:' .. eid
local outbox = P .. 'outbox'
if redis.call('EXISTS', ek) == 0 then return 0 end
local done = redis.call('RPUSH', ek .. ':attempts', attempt)
if redis.call('HGET', ek, 'claims') ~= claim then return 0 end
local again = redis.call('HGET', ek, 'redeliver')
redis.call('HDEL', ek, 'lease_until', 'redeliver')
if again then
  redis.call('HSET', ek, 'state', 'pending', 'next_attempt_at', now, 'series', done)
  redis.call('ZADD', outbox, now, eid)
  return 0
elseif result == 'retry' then
  redis.call('HSET', ek, 'state', 'pending', 'next_attempt_at', at)
  redis.call('ZADD', outbox, at, eid)
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
