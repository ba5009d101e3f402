-- Reserves the first free (card, amount) candidate and stores a pending
-- transaction, or replays an idempotent request. One atomic step: this is
-- what makes allocation safe with several paycue processes on one Redis.
-- ARGV: id, requested, currency, created_at, expires_at, metadata ('' none),
--       idem key ('' none), idem fingerprint, idem ttl ms, then
--       (hold field, card, amount) triples in the order to try them.
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
for i = 10, #ARGV, 3 do fields[#fields + 1] = ARGV[i] end
if #fields == 0 then return {'nofree'} end
-- HMGET in chunks: Lua's unpack() has a small stack, LIMIT may be large.
local chosen = nil
for start = 1, #fields, 500 do
  local chunk = {}
  for i = start, math.min(start + 499, #fields) do chunk[#chunk + 1] = fields[i] end
  local held = redis.call('HMGET', P .. 'holds', unpack(chunk))
  for j = 1, #chunk do
    local free = not held[j]
    if not free then
      local release = string.match(held[j], '|(%d+)$')
      free = release ~= nil and tonumber(release) <= now
    end
    if free then chosen = start + j - 1 break end
  end
  if chosen then break end
end
if not chosen then return {'nofree'} end

local base = 10 + (chosen - 1) * 3
local field, card, amount = ARGV[base], ARGV[base + 1], ARGV[base + 2]
redis.call('HSET', P .. 'holds', field, id .. '|')
redis.call('ZREM', P .. 'hold_release', field)
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
