-- Queues a transaction's last event again, same event id. ARGV: tx id, now.
local eid = redis.call('HGET', P .. 'tx:' .. ARGV[1], 'last_event')
if not eid then return false end
redis.call('HSET', P .. 'event:' .. eid, 'state', 'pending', 'next_attempt_at', ARGV[2])
redis.call('ZADD', P .. 'outbox', ARGV[2], eid)
return eid
