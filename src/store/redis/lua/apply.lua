-- Applies one credit notification: dedupe by (chat, message id), then
-- confirm the pending transaction holding (card, amount), or record a late
-- or unmatched credit. State change, credit record and outbox event are one
-- atomic step.
--
-- What must stay true: the message is marked seen only together with the
-- record of what became of it. Redis does not undo a script's writes when it
-- fails half-way, so everything that can fail (PAYCUE_CORRUPT, a missing
-- field) is read and checked before the first write; otherwise a retry would
-- find the message "seen" and the credit would vanish without a record.
-- ARGV: chat, message id, credit id, event id, cancel event id, amount,
--       currency ('' unknown), expected currency, date, now, grace ms,
--       early tolerance ms, n credit fields, (name, value) pairs, then the
--       hold fields this credit may match (one per candidate card).
local chat, msg, cid, eid, cancel_eid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local amount, currency, expected = ARGV[6], ARGV[7], ARGV[8]
local date, now = tonumber(ARGV[9]), tonumber(ARGV[10])
local grace, early = tonumber(ARGV[11]), tonumber(ARGV[12])
local nfields = tonumber(ARGV[13])

if is_seen(chat, msg) then return {'duplicate'} end

-- The only place the message is marked seen: with its record.
local function record(outcome, txid, reason)
  see(chat, msg, now)
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
local status, created, expires, seq, hold =
  unpack(redis.call('HMGET', k, 'status', 'created_at', 'expires_at', 'seq', 'hold'))
if not status then
  return redis.error_reply('PAYCUE_CORRUPT held amount points at missing transaction ' .. txid)
end
created, expires = tonumber(created), tonumber(expires)
if not (created and expires and seq and hold) then
  return redis.error_reply('PAYCUE_CORRUPT transaction ' .. txid .. ' lacks a field')
end
if date < created - early then
  return unmatched('before_transaction')
end

-- From here on nothing can fail; the record (and the seen mark) goes first
-- so that a write refused by Redis (out of memory) leaves nothing behind.
if status == 'pending' and date <= expires then
  record('confirmed', txid, nil)
  end_tx(txid, 'confirmed', nil, now, grace)
  redis.call('HSET', k, 'paid_by', cid)
  add_event(eid, txid, 'confirm', cid, now)
  -- What a later reversal message of this (card, amount) is matched against
  -- (reverse.lua), by the credit's own date.
  redis.call('ZADD', P .. 'paid:' .. hold, ARGV[9], cid)
  return {'confirmed', tx_fields(txid)}
end

record('late', txid, nil)
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
return {'late', tx_fields(txid)}
