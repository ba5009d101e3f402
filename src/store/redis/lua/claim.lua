-- Takes the oldest due outbox event and hides it until now + lease: if the
-- worker dies mid-delivery (even kill -9), the event becomes due again then.
-- Events of one transaction go out in order: an event waits while an earlier
-- event of its transaction is still pending (so `cancel` comes before `late`).
-- A waiting event is moved to just after the event it waits for, so it never
-- holds a place among the due events: however many wait, the ones that can
-- go are reached (finish.lua makes it due again once that event is done).
-- The claim is remembered in `lease_until` (redeliver.lua reads it: one
-- delivery of an event at a time) and numbered in `claims`: finish.lua takes
-- the outcome only from the latest claim, so a worker whose lease ran out
-- cannot end the attempt of the worker that claimed the event after it.
-- ARGV: now, lease ms. Returns {} or {event, attempts, transaction, credit,
-- claim token, attempts before the last redeliver}.
local now, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
local outbox = P .. 'outbox'

-- The first pending event of the transaction before `eid`, or nil.
local function blocker(txid, eid)
  for _, earlier in ipairs(redis.call('LRANGE', P .. 'tx:' .. txid .. ':events', 0, -1)) do
    if earlier == eid then return nil end
    if redis.call('HGET', P .. 'event:' .. earlier, 'state') == 'pending' then return earlier end
  end
  return nil
end

-- Each round either claims an event or moves every due one it saw out of
-- the way, so a few rounds always get through.
for _ = 1, 10 do
  local due = redis.call('ZRANGEBYSCORE', outbox, '-inf', ARGV[1], 'LIMIT', 0, 20)
  if #due == 0 then return {} end
  for _, eid in ipairs(due) do
    local ek = P .. 'event:' .. eid
    local txid = redis.call('HGET', ek, 'transaction_id')
    if not txid then
      -- An outbox entry without its event record cannot be delivered; drop it
      -- rather than block the queue.
      redis.call('ZREM', outbox, eid)
    else
      local first = blocker(txid, eid)
      if first then
        local at = tonumber(redis.call('ZSCORE', outbox, first) or (now + lease))
        redis.call('ZADD', outbox, ms(math.max(at, now) + 1), eid)
      else
        redis.call('ZADD', outbox, ms(now + lease), eid)
        redis.call('HSET', ek, 'next_attempt_at', ms(now + lease), 'lease_until', ms(now + lease))
        local claim = redis.call('HINCRBY', ek, 'claims', 1)
        local series = tonumber(redis.call('HGET', ek, 'series') or '0')
        local credit = {}
        local cid = redis.call('HGET', ek, 'credit_id')
        if cid then credit = redis.call('HGETALL', P .. 'credit:' .. cid) end
        return {redis.call('HGETALL', ek), redis.call('LRANGE', ek .. ':attempts', 0, -1),
          tx_fields(txid), credit, claim, series}
      end
    end
  end
end
return {}
