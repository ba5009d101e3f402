-- One bounded retention step (at most `max` of each kind). Removes:
-- 1. ended transactions, oldest first (txs:all is in creation order), with
--    everything hanging off them: events, attempts, outbox entries, the
--    credits that paid, came late or reversed them, and listing entries.
--    The walk stops at the first transaction that must stay: still pending,
--    ended after the cutoff, its amount still held (grace), or created less
--    than the idempotency window ago (its `idem:` key, which Redis expires
--    by itself, could still replay it), confirmed and not reversed less than
--    the reversal window after its end or its paying credit's date, if later
--    (reverse.lua must still find its credit), or
--    with an event queued after the cutoff still pending (a `reversal` near
--    the end of its window: delivered or given up first). A transaction created before another
--    ends at most TX_TTL later, so stopping delays removal by at most that.
-- 2. unmatched credits (and reversals) received before the cutoff.
-- 3. dedupe entries of messages applied before the cutoff, per chat; the
--    chat's `seen_floor` rises to the highest id removed, and ids up to it
--    stay refused (lib.lua's is_seen). The sets older versions wrote
--    (`seen:<chat>`) are moved over a batch at a time, as if applied now.
-- 4. audit entries (manual actions) older than the cutoff.
-- ARGV: now, cutoff, grace ms, idempotency ms, max, reversal window ms.
-- Returns {transactions, credits, seen, audit} removed.
local now, cutoff = tonumber(ARGV[1]), tonumber(ARGV[2])
local grace, idem, max = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local window = tonumber(ARGV[6])

-- Whether an event of the transaction queued after the cutoff is still
-- pending (in its retries). One older than the cutoff is never delivered
-- (no WEBHOOK_URL) and goes with its transaction.
local function undelivered(k)
  for _, eid in ipairs(redis.call('LRANGE', k .. ':events', 0, -1)) do
    local state, at = unpack(redis.call('HMGET', P .. 'event:' .. eid, 'state', 'created_at'))
    if state == 'pending' and tonumber(at or '0') > cutoff then return true end
  end
  return false
end

local function drop_credit(cid)
  redis.call('DEL', P .. 'credit:' .. cid)
  redis.call('ZREM', P .. 'credits:late', cid)
  redis.call('ZREM', P .. 'credits:unmatched', cid)
  redis.call('ZREM', P .. 'credits:reversed', cid)
end

local txs = 0
for _, id in ipairs(redis.call('ZRANGE', P .. 'txs:all', 0, max - 1)) do
  local k = P .. 'tx:' .. id
  local status, ended, created, hold, paid_by, late, reversal = unpack(redis.call('HMGET', k,
    'status', 'ended_at', 'created_at', 'hold', 'paid_by', 'late_credits', 'reversal'))
  if status then
    ended, created = tonumber(ended), tonumber(created)
    -- A reversal of the paying credit may come until `window` after the
    -- later of the end and the credit's own date (a credit assigned by hand
    -- to an expired order can be younger than the order's end).
    local paid_at = ended
    if paid_by then
      local d = tonumber(redis.call('HGET', P .. 'credit:' .. paid_by, 'date'))
      if d and paid_at and d > paid_at then paid_at = d end
    end
    if status == 'pending' or not ended or not created or ended > cutoff
      or ended + grace > now or created + idem > now
      or (status == 'confirmed' and not reversal and paid_at + window > now)
      or undelivered(k) then
      break
    end
    for _, eid in ipairs(redis.call('LRANGE', k .. ':events', 0, -1)) do
      redis.call('DEL', P .. 'event:' .. eid, P .. 'event:' .. eid .. ':attempts')
      redis.call('ZREM', P .. 'outbox', eid)
    end
    if paid_by then
      -- A credit settled by hand is indexed under its own key (manual.lua).
      local pk = redis.call('HGET', P .. 'credit:' .. paid_by, 'paid_key') or hold
      drop_credit(paid_by)
      if pk then redis.call('ZREM', P .. 'paid:' .. pk, paid_by) end
    end
    if late then
      for cid in string.gmatch(late, '[^,]+') do drop_credit(cid) end
    end
    if reversal then drop_credit(reversal) end
    redis.call('ZREM', P .. 'txs:' .. status, id)
    redis.call('ZREM', P .. 'deadlines', id)
    redis.call('DEL', k, k .. ':events')
  end
  -- (An id whose record is already gone is only a stale listing entry.)
  redis.call('ZREM', P .. 'txs:all', id)
  txs = txs + 1
end

local credits = 0
for _, cid in ipairs(redis.call('ZRANGE', P .. 'credits:unmatched', 0, max - 1)) do
  local received = tonumber(redis.call('HGET', P .. 'credit:' .. cid, 'received_at'))
  if received and received > cutoff then break end
  drop_credit(cid)
  credits = credits + 1
end

local seen = 0
for _, chat in ipairs(redis.call('HKEYS', P .. 'last_message')) do
  local old = P .. 'seen:' .. chat
  for _, msg in ipairs(redis.call('SPOP', old, max)) do
    redis.call('ZADD', P .. 'seen_at:' .. chat, 'NX', ms(now), msg)
  end
  local zk = P .. 'seen_at:' .. chat
  local gone = redis.call('ZRANGEBYSCORE', zk, '-inf', ms(cutoff), 'LIMIT', 0, max)
  if #gone > 0 then
    local top = tonumber(redis.call('HGET', P .. 'seen_floor', chat) or '-1')
    for _, msg in ipairs(gone) do
      if tonumber(msg) > top then top = tonumber(msg) end
      redis.call('ZREM', zk, msg)
    end
    redis.call('HSET', P .. 'seen_floor', chat, ms(top))
    seen = seen + #gone
  end
end
local audit = redis.call('ZRANGEBYSCORE', P .. 'audit', '-inf', ms(cutoff), 'LIMIT', 0, max)
for _, entry in ipairs(audit) do redis.call('ZREM', P .. 'audit', entry) end
return {txs, credits, seen, #audit}
