-- Applies one credit notification: dedupe by (chat, message id), then
-- confirm the pending transaction holding (card, amount), or record a late
-- or unmatched credit. State change, credit record and outbox event are one
-- atomic step.
-- ARGV: chat, message id, credit id, event id, cancel event id, amount,
--       currency ('' unknown), expected currency, date, now, grace ms,
--       early tolerance ms, n credit fields, (name, value) pairs, then the
--       hold fields this credit may match (one per candidate card).
local chat, msg, cid, eid, cancel_eid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local amount, currency, expected = ARGV[6], ARGV[7], ARGV[8]
local date, now = tonumber(ARGV[9]), tonumber(ARGV[10])
local grace, early = tonumber(ARGV[11]), tonumber(ARGV[12])
local nfields = tonumber(ARGV[13])

if see(chat, msg) == 0 then return {'duplicate'} end

local function record(outcome, txid, reason)
  local ck = P .. 'credit:' .. cid
  for i = 14, 13 + nfields * 2, 2 do
    redis.call('HSET', ck, ARGV[i], ARGV[i + 1])
  end
  redis.call('HSET', ck, 'outcome', outcome)
  if txid then redis.call('HSET', ck, 'transaction_id', txid) end
  if reason then redis.call('HSET', ck, 'reason', reason) end
  if outcome ~= 'confirmed' then
    redis.call('ZADD', P .. 'credits:' .. outcome, redis.call('INCR', P .. 'seq'), cid)
  end
end

local function unmatched(reason)
  record('unmatched', nil, reason)
  return {'unmatched', reason}
end

if currency ~= '' and currency ~= expected then return unmatched('currency') end
local first_hold = 14 + nfields * 2
if first_hold > #ARGV then return unmatched('unknown_card') end

local holders = {}
for i = first_hold, #ARGV do
  local id = holder(ARGV[i], now)
  if id then holders[#holders + 1] = id end
end
if #holders == 0 then return unmatched('no_transaction') end
if #holders > 1 then return unmatched('ambiguous_card') end
local txid = holders[1]
local k = P .. 'tx:' .. txid
local status = redis.call('HGET', k, 'status')
if not status then
  return redis.error_reply('PAYCUE_CORRUPT held amount points at missing transaction ' .. txid)
end
if date < tonumber(redis.call('HGET', k, 'created_at')) - early then
  return unmatched('before_transaction')
end

if status == 'pending' and date <= tonumber(redis.call('HGET', k, 'expires_at')) then
  end_tx(txid, 'confirmed', nil, now, grace)
  redis.call('HSET', k, 'paid_by', cid)
  add_event(eid, txid, 'confirm', cid, now)
  record('confirmed', txid, nil)
  return {'confirmed', tx_fields(txid)}
end

if status == 'pending' then
  -- Paid after the deadline but before the sweep ran: cancel first so the
  -- shop sees `cancel` then `late`, the same order as when the sweep wins.
  end_tx(txid, 'cancelled', 'expired', now, grace)
  add_event(cancel_eid, txid, 'cancel', nil, now)
end
local late = redis.call('HGET', k, 'late_credits')
if late and late ~= '' then late = late .. ',' .. cid else late = cid end
redis.call('HSET', k, 'late_credits', late)
add_event(eid, txid, 'late', cid, now)
record('late', txid, nil)
return {'late', tx_fields(txid)}
