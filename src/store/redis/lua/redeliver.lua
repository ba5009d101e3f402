-- Queues a transaction's last event again, same event id. ARGV: tx id, now.
-- One delivery of an event at a time: while an attempt is in flight (its
-- claim's lease runs), the request is only remembered, and finish.lua queues
-- the event after that attempt; repeated requests coalesce into one delivery.
-- A redelivery starts a new series of attempts (`series`: attempts before
-- it), so an event that had `failed` gets its retries again.
local eid = redis.call('HGET', P .. 'tx:' .. ARGV[1], 'last_event')
if not eid then return false end
local ek = P .. 'event:' .. eid
local lease = redis.call('HGET', ek, 'lease_until')
if lease and tonumber(lease) > tonumber(ARGV[2]) then
  redis.call('HSET', ek, 'redeliver', '1')
  return eid
end
redis.call('HSET', ek, 'state', 'pending', 'next_attempt_at', ARGV[2],
  'series', redis.call('LLEN', ek .. ':attempts'))
redis.call('ZADD', P .. 'outbox', ARGV[2], eid)
return eid
