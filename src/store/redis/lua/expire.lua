-- Cancels pending transactions whose deadline has passed (at most one per
-- given event id), and tidies the allocation index. Safe with several
-- processes sweeping at once: each transaction ends once.
-- ARGV: now, grace, event ids...
local now, grace = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = #ARGV - 2
local out = {}
if n > 0 then
  local due = redis.call('ZRANGEBYSCORE', P .. 'deadlines', '-inf', ARGV[1], 'LIMIT', 0, n)
  for i, id in ipairs(due) do
    if redis.call('HGET', P .. 'tx:' .. id, 'status') == 'pending' then
      end_tx(id, 'cancelled', 'expired', now, grace)
      add_event(ARGV[2 + i], id, 'cancel', nil, now)
      out[#out + 1] = tx_fields(id)
    else
      redis.call('ZREM', P .. 'deadlines', id)
    end
  end
end
clean_released(now, 500)
return out
