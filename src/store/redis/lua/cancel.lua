-- Cancels a pending transaction on request. ARGV: id, event id, now, grace.
local id, eid, now, grace = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local status = redis.call('HGET', P .. 'tx:' .. id, 'status')
if not status then return {'notfound'} end
if status ~= 'pending' then return {'notpending', tx_fields(id)} end
end_tx(id, 'cancelled', 'api', now, grace)
add_event(eid, id, 'cancel', nil, now)
return {'cancelled', tx_fields(id)}
