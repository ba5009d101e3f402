-- Shared by every paycue script (prepended to each one). All keys live under
-- "paycue:". What must stay true: a hold field names at most one transaction;
-- a transaction leaves "pending" once; its state change and its outbox event
-- are written by the same script (so atomically).
--
-- Numbers: amounts are opaque strings (integer minor units) and are never
-- turned into Lua numbers. Times are Unix milliseconds (< 2^53, exact in a
-- double) and are written back with string.format('%d', ...).
local P = 'paycue:'

local function ms(n)
  return string.format('%d', n)
end

-- The transaction holding a hold field at `now`, or nil if the field is free.
-- A hold is the key "hold:<card>|<minor amount>" with the value "<tx id>|"
-- while pending, "<tx id>|<release ms>" once ended.
local function holder(field, now)
  local v = redis.call('GET', P .. 'hold:' .. field)
  if not v then return nil end
  local id, release = string.match(v, '^(.*)|(%d*)$')
  if not id then return nil end
  if release ~= '' and tonumber(release) <= now then return nil end
  return id
end

-- Queues a webhook event for a transaction.
local function add_event(eid, txid, action, credit, now)
  local ek = P .. 'event:' .. eid
  redis.call('HSET', ek, 'id', eid, 'transaction_id', txid, 'action', action,
    'created_at', ms(now), 'state', 'pending', 'next_attempt_at', ms(now))
  if credit then redis.call('HSET', ek, 'credit_id', credit) end
  -- The transaction's status as of this event (the webhook body says it;
  -- the transaction may change later, a retry must not).
  local st, why = unpack(redis.call('HMGET', P .. 'tx:' .. txid, 'status', 'cancel_reason'))
  if st then redis.call('HSET', ek, 'tx_status', st) end
  if why then redis.call('HSET', ek, 'tx_cancel_reason', why) end
  redis.call('RPUSH', P .. 'tx:' .. txid .. ':events', eid)
  redis.call('HSET', P .. 'tx:' .. txid, 'last_event', eid)
  redis.call('ZADD', P .. 'outbox', ms(now), eid)
end

-- Ends a pending transaction: status, indexes, and the hold, which stays
-- reserved until now + grace so a late payment never matches a newer order.
local function end_tx(id, status, reason, now, grace)
  local k = P .. 'tx:' .. id
  redis.call('HSET', k, 'status', status, 'ended_at', ms(now))
  if reason then redis.call('HSET', k, 'cancel_reason', reason) end
  redis.call('ZREM', P .. 'deadlines', id)
  redis.call('ZREM', P .. 'txs:pending', id)
  redis.call('ZADD', P .. 'txs:' .. status, redis.call('HGET', k, 'seq'), id)
  local field = redis.call('HGET', k, 'hold')
  local release = now + grace
  -- Redis forgets the hold itself once its grace is over (a key per hold
  -- rather than one big hash: Redis keeps small hashes as lists, and a
  -- lookup in those grows with the number of holds).
  -- (SET then PEXPIREAT rather than SET PXAT: works on Redis 6.0 too.)
  local hk = P .. 'hold:' .. field
  redis.call('SET', hk, id .. '|' .. ms(release))
  redis.call('PEXPIREAT', hk, ms(release))
  -- The allocation index forgets the amount once the grace is over.
  redis.call('ZADD', P .. 'hold_release', ms(release), field)
end

-- The allocation index of one card and one minor-unit remainder (0..99):
-- a sorted set of the amounts taken (pending or in their grace window),
-- scored by their whole units. Amounts of a price all share its remainder.
local function grid_key(card, frac)
  return P .. 'grid:' .. card .. '|' .. frac
end

-- Removes from the allocation index the amounts whose grace is over (at
-- most `max` of them: the rest on the next call). Until removed, an amount
-- only looks taken, which is safe: it is never issued twice.
local function clean_released(now, max)
  local due = redis.call('ZRANGEBYSCORE', P .. 'hold_release', '-inf', ms(now), 'LIMIT', 0, max)
  for _, field in ipairs(due) do
    if not holder(field, now) then
      local card, amount = string.match(field, '^(.*)|(%d+)$')
      redis.call('ZREM', grid_key(card, ms(tonumber(amount) % 100)), amount)
    end
    redis.call('ZREM', P .. 'hold_release', field)
  end
end

local function tx_fields(id)
  return redis.call('HGETALL', P .. 'tx:' .. id)
end

-- Whether a (chat, message id) was applied. Dedupe memory is
-- `seen_at:<chat>` (message ids scored by when they were applied, which
-- prune.lua trims after RETENTION) and `seen_floor` (chat -> the highest id
-- trimmed: ids up to it stay refused). `seen:<chat>` is the set older
-- versions wrote; it is read until prune.lua has moved it over.
local function is_seen(chat, msg)
  local floor = redis.call('HGET', P .. 'seen_floor', chat)
  if floor and tonumber(msg) <= tonumber(floor) then return true end
  if redis.call('ZSCORE', P .. 'seen_at:' .. chat, msg) then return true end
  return redis.call('SISMEMBER', P .. 'seen:' .. chat, msg) == 1
end

-- Marks a (chat, message id) seen at `now`; 0 if it was seen before, so a
-- message is applied at most once. Also moves the chat's last message id on
-- (catch-up reads the history after it). Called only by the step that
-- records what became of the message, after everything that can fail: a
-- message marked seen without its record would be refused on retry and lost.
local function see(chat, msg, now)
  if is_seen(chat, msg) then return 0 end
  redis.call('ZADD', P .. 'seen_at:' .. chat, ms(now), msg)
  local last = redis.call('HGET', P .. 'last_message', chat)
  if not last or tonumber(msg) > tonumber(last) then
    redis.call('HSET', P .. 'last_message', chat, msg)
  end
  return 1
end
