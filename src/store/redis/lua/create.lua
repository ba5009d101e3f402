-- Reserves the first free (card, amount) candidate and stores a pending
-- transaction, or replays an idempotent request. One atomic step: this is
-- what makes allocation safe with several paycue processes on one Redis.
-- ARGV: id, requested, currency, created_at, expires_at, metadata ('' none),
--       idem key ('' none), idem fingerprint, idem ttl ms, then the hold
--       fields ("<card>|<minor amount>") in the order to try them.
-- Returns {'created', index of the field taken} or {'replayed', tx},
-- {'conflict'}, {'nofree'}.
local id, requested, currency = ARGV[1], ARGV[2], ARGV[3]
local created, expires, metadata = ARGV[4], ARGV[5], ARGV[6]
local ikey, ifp, ittl = ARGV[7], ARGV[8], ARGV[9]
local now = tonumber(created)

if ikey ~= '' then
  local seen = redis.call('GET', P .. 'idem:' .. ikey)
  if seen then
    local fp, txid = string.match(seen, '^([^|]*)|(.*)$')
    if fp ~= ifp then return {'conflict'} end
    return {'replayed', tx_fields(txid)}
  end
end

local fields = {}
for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
if #fields == 0 then return {'nofree'} end
-- The caller sends candidates in pages of a few hundred (one MGET; Lua's
-- unpack() has a small stack).
local keys = {}
for i, field in ipairs(fields) do keys[i] = P .. 'hold:' .. field end
local held = redis.call('MGET', unpack(keys))
local chosen = nil
for i = 1, #fields do
  local v = held[i]
  local free = not v
  -- A pending hold ends in '|' (byte 124): held, no parsing needed. Only an
  -- ended one ("<id>|<release>") is parsed, to see if its grace is over.
  if v and string.byte(v, -1) ~= 124 then
    local bar = string.find(v, '|', 1, true)
    free = bar ~= nil and tonumber(string.sub(v, bar + 1)) <= now
  end
  if free then chosen = i break end
end
if not chosen then return {'nofree'} end

local field = fields[chosen]
local card, amount = string.match(field, '^(.*)|(%d+)$')
redis.call('SET', P .. 'hold:' .. field, id .. '|')
redis.call('HSET', P .. 'tx:' .. id, 'id', id, 'status', 'pending', 'amount', amount,
  'requested_amount', requested, 'card', card, 'currency', currency,
  'created_at', created, 'expires_at', expires, 'metadata', metadata, 'hold', field)
redis.call('ZADD', P .. 'deadlines', expires, id)
-- Listings are ordered by a sequence, not by time: several transactions
-- can be created in one millisecond, and "newest first" must be exact.
local seq = redis.call('INCR', P .. 'seq')
redis.call('HSET', P .. 'tx:' .. id, 'seq', seq)
redis.call('ZADD', P .. 'txs:all', seq, id)
redis.call('ZADD', P .. 'txs:pending', seq, id)
if ikey ~= '' then
  redis.call('SET', P .. 'idem:' .. ikey, ifp .. '|' .. id, 'PX', ittl)
end
return {'created', chosen - 1}
