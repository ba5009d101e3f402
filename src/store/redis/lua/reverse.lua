-- Applies one reversal message (the bank took a credit back): dedupe by
-- (chat, message id), then record it on the one transaction whose confirming
-- credit has this (card, amount) and is dated within the window before it,
-- with a `reversal` outbox event; else record it unmatched. The transaction's
-- status does not change (it left pending once); the reversal is its own
-- fact (`reversed_at`, `reversal`). As in apply.lua, everything that can fail
-- is checked before the first write, and the message is marked seen only
-- with its record.
-- ARGV: chat, message id, record id, event id, currency ('' unknown),
--       expected currency, date, now, window ms, early tolerance ms,
--       n record fields, (name, value) pairs, then the hold fields
--       ("<card>|<amount>") this reversal may be for.
local chat, msg, rid, eid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local currency, expected = ARGV[5], ARGV[6]
local date, now = tonumber(ARGV[7]), tonumber(ARGV[8])
local window, early = tonumber(ARGV[9]), tonumber(ARGV[10])
local nfields = tonumber(ARGV[11])

if is_seen(chat, msg) then return {'duplicate'} end

local function record(outcome, txid, reason)
  see(chat, msg, now)
  local ck = P .. 'credit:' .. rid
  for i = 12, 11 + nfields * 2, 2 do
    redis.call('HSET', ck, ARGV[i], ARGV[i + 1])
  end
  redis.call('HSET', ck, 'kind', 'reversal', 'outcome', outcome)
  if txid then redis.call('HSET', ck, 'transaction_id', txid) end
  if reason then redis.call('HSET', ck, 'reason', reason) end
  -- Both outcomes are listed: unmatched ones like unmatched credits, and
  -- reversed ones for the alerts' look at the store after a crash.
  redis.call('ZADD', P .. 'credits:' .. outcome, redis.call('INCR', P .. 'seq'), rid)
end

local function unmatched(reason)
  record('unmatched', nil, reason)
  return {'unmatched', reason}
end

if currency ~= '' and currency ~= expected then return unmatched('currency') end
local first_hold = 12 + nfields * 2
if first_hold > #ARGV then return unmatched('unknown_card') end

local found = {}
for i = first_hold, #ARGV do
  local paid = P .. 'paid:' .. ARGV[i]
  for _, cid in ipairs(redis.call('ZRANGEBYSCORE', paid, ms(date - window), ms(date + early))) do
    found[#found + 1] = {paid, cid}
  end
end
if #found == 0 then return unmatched('no_credit') end
if #found > 1 then return unmatched('ambiguous_credit') end
local paid, cid = found[1][1], found[1][2]
local txid = redis.call('HGET', P .. 'credit:' .. cid, 'transaction_id')
if not txid or redis.call('EXISTS', P .. 'tx:' .. txid) == 0 then
  return redis.error_reply('PAYCUE_CORRUPT paid credit ' .. cid .. ' has no transaction')
end
-- A second payment of the same (card, amount) on that order (recorded
-- `late`) inside the window: which of the two went back cannot be told, and
-- the order may still be paid once, so it is not reported reversed.
local late = redis.call('HGET', P .. 'tx:' .. txid, 'late_credits')
for lid in string.gmatch(late or '', '[^,]+') do
  local d = tonumber(redis.call('HGET', P .. 'credit:' .. lid, 'date'))
  if d and d >= date - window and d <= date + early then
    return unmatched('ambiguous_credit')
  end
end

record('reversed', txid, nil)
redis.call('ZREM', paid, cid)
redis.call('HSET', P .. 'tx:' .. txid, 'reversed_at', ms(date), 'reversal', rid)
add_event(eid, txid, 'reversal', rid, now)
return {'reversed', tx_fields(txid)}
