-- Settles a transaction by hand (the seller says it is paid): confirms a
-- pending or expired transaction, optionally with a credit that matched
-- nothing or came late, writes a `confirm` outbox event marked manual and
-- an audit entry, all in this one atomic step.
--
-- What must stay true: a transaction is confirmed at most once (by a
-- credit or by hand, whichever runs first), a credit pays at most one
-- transaction, and every check that can refuse runs before the first write.
-- A pending transaction ends as apply.lua's confirm ends it (end_tx: the
-- amount stays held for its grace, so a real payment arriving later is
-- reported `late`); an expired one keeps the release its expiry gave it.
-- A credit given this way is indexed for reversals like one apply.lua
-- confirmed (`paid:<card>|<its amount>`, by its date), so the bank taking it
-- back reverses this transaction; the key is kept on the credit
-- (`paid_key`) for prune.lua, since its amount may differ from the hold's.
-- ARGV: tx id, credit id ('' none), event id, now, grace ms, by, audit JSON,
--       then the cards the credit's message may be for.
local txid, cid, eid = ARGV[1], ARGV[2], ARGV[3]
local now, grace, by, audit = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]
local k = P .. 'tx:' .. txid

local status, reason, seq, hold, tcur = unpack(redis.call('HMGET', k,
  'status', 'cancel_reason', 'seq', 'hold', 'currency'))
if not status then return {'notx'} end
if status == 'confirmed' then return {'confirmed', tx_fields(txid)} end
if status == 'cancelled' and reason ~= 'expired' then return {'cancelled', tx_fields(txid)} end
if status ~= 'pending' and status ~= 'cancelled' then
  return redis.error_reply('PAYCUE_CORRUPT transaction ' .. txid .. ' has status ' .. status)
end
if not (seq and hold) then
  return redis.error_reply('PAYCUE_CORRUPT transaction ' .. txid .. ' lacks a field')
end

local ck = P .. 'credit:' .. cid
local outcome, late_of
if cid ~= '' then
  local kind, ccur
  outcome, kind, ccur, late_of = unpack(redis.call('HMGET', ck,
    'outcome', 'kind', 'currency', 'transaction_id'))
  if not outcome then return {'nocredit'} end
  if kind == 'reversal' then return {'reversal'} end
  if outcome ~= 'late' and outcome ~= 'unmatched' then
    return {'taken', redis.call('HGETALL', ck)}
  end
  if ccur and ccur ~= '' and ccur ~= tcur then return {'currency', ccur, tcur or ''} end
end

-- From here on nothing refuses.
if status == 'pending' then
  end_tx(txid, 'confirmed', nil, now, grace)
else
  -- Expired: its `cancel` went out already; the amount keeps the release
  -- its expiry set. Only the status and the listings change.
  -- Events an older release wrote lack the status their body says (read
  -- from the transaction): they keep the one they were sent with.
  for _, old in ipairs(redis.call('LRANGE', k .. ':events', 0, -1)) do
    local ek = P .. 'event:' .. old
    if redis.call('EXISTS', ek) == 1 and not redis.call('HGET', ek, 'tx_status') then
      redis.call('HSET', ek, 'tx_status', status)
      if reason then redis.call('HSET', ek, 'tx_cancel_reason', reason) end
    end
  end
  redis.call('HSET', k, 'status', 'confirmed')
  redis.call('HDEL', k, 'cancel_reason')
  redis.call('ZREM', P .. 'txs:cancelled', txid)
  redis.call('ZADD', P .. 'txs:confirmed', seq, txid)
end
redis.call('HSET', k, 'manual_by', by, 'manual_at', ms(now))
local credit = {}
if cid ~= '' then
  redis.call('HSET', k, 'paid_by', cid)
  if outcome == 'late' and late_of then
    -- The credit now pays this transaction, not the one it came late for:
    -- that one's retention and reversal check must not count it.
    local lk = P .. 'tx:' .. late_of
    local kept = {}
    for other in string.gmatch(redis.call('HGET', lk, 'late_credits') or '', '[^,]+') do
      if other ~= cid then kept[#kept + 1] = other end
    end
    redis.call('HSET', lk, 'late_credits', table.concat(kept, ','))
  end
  redis.call('HSET', ck, 'outcome', 'confirmed', 'transaction_id', txid,
    'manual_by', by, 'manual_at', ms(now))
  if #ARGV >= 8 then
    -- The card the transaction holds if the message may be for it, else the
    -- first the message may be for.
    local card = ARGV[8]
    local held = string.match(hold, '^(.*)|[^|]*$')
    for i = 8, #ARGV do
      if ARGV[i] == held then card = held end
    end
    local cam, cdate = unpack(redis.call('HMGET', ck, 'amount', 'date'))
    local pk = card .. '|' .. cam
    redis.call('ZADD', P .. 'paid:' .. pk, cdate, cid)
    redis.call('HSET', ck, 'paid_key', pk)
  end
  redis.call('ZREM', P .. 'credits:late', cid)
  redis.call('ZREM', P .. 'credits:unmatched', cid)
  credit = redis.call('HGETALL', ck)
end
add_event(eid, txid, 'confirm', cid ~= '' and cid or nil, now)
redis.call('HSET', P .. 'event:' .. eid, 'manual_by', by, 'manual_at', ms(now))
redis.call('ZADD', P .. 'audit', ms(now), audit)
return {'settled', tx_fields(txid), credit}
