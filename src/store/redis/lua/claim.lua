-- Takes the oldest due outbox event and hides it until now + lease: if the
-- worker dies mid-delivery (even kill -9), the event becomes due again then.
-- Events of one transaction go out in order: an event waits while an earlier
-- event of its transaction is still pending (so `cancel` comes before `late`).
-- ARGV: now, lease ms. Returns {} or {event, attempts, transaction, credit}.
local now, lease = tonumber(ARGV[1]), tonumber(ARGV[2])

local function waits(txid, eid)
  for _, earlier in ipairs(redis.call('LRANGE', P .. 'tx:' .. txid .. ':events', 0, -1)) do
    if earlier == eid then return false end
    if redis.call('HGET', P .. 'event:' .. earlier, 'state') == 'pending' then return true end
  end
  return false
end

local due = redis.call('ZRANGEBYSCORE', P .. 'outbox', '-inf', ARGV[1], 'LIMIT', 0, 20)
for _, eid in ipairs(due) do
  local ek = P .. 'event:' .. eid
  local txid = redis.call('HGET', ek, 'transaction_id')
  if not txid then
    -- An outbox entry without its event record cannot be delivered; drop it
    -- rather than block the queue.
    redis.call('ZREM', P .. 'outbox', eid)
  elseif not waits(txid, eid) then
    redis.call('ZADD', P .. 'outbox', ms(now + lease), eid)
    redis.call('HSET', ek, 'next_attempt_at', ms(now + lease))
    local credit = {}
    local cid = redis.call('HGET', ek, 'credit_id')
    if cid then credit = redis.call('HGETALL', P .. 'credit:' .. cid) end
    return {redis.call('HGETALL', ek), redis.call('LRANGE', ek .. ':attempts', 0, -1),
      tx_fields(txid), credit}
  end
end
return {}
