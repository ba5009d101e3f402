-- Reserves the smallest free offset for a price and stores a pending
-- transaction, or replays an idempotent request. One atomic step: this is
-- what makes allocation safe with several paycue processes on one Redis.
-- ARGV: id, requested, currency, created_at, expires_at, metadata ('' none),
--       idem key ('' none), idem fingerprint, idem ttl ms, the price's whole
--       units, its minor remainder (0..99), LIMIT, then the card keys in order.
-- Returns {'created', card index, offset} or {'replayed', tx}, {'conflict'},
-- {'nofree'}.
--
-- The smallest free offset k in 1..LIMIT on a card is found by bisection on
-- "how many of the amounts price+1..price+k are taken" (ZCOUNT on the card's
-- index, O(log n)): the first k where fewer than k are taken is free. So a
-- create costs O(cards * log LIMIT * log n), however many orders are
-- pending at the same price. Whole units stay below 2^53 (config caps
-- amounts at 10^13), so Lua's numbers hold them exactly; they are written
-- with ms(), never with Lua's default number format.
local id, requested, currency = ARGV[1], ARGV[2], ARGV[3]
local created, expires, metadata = ARGV[4], ARGV[5], ARGV[6]
local ikey, ifp, ittl = ARGV[7], ARGV[8], ARGV[9]
local base, frac, limit = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local now = tonumber(created)

if ikey ~= '' then
  local seen = redis.call('GET', P .. 'idem:' .. ikey)
  if seen then
    local fp, txid = string.match(seen, '^([^|]*)|(.*)$')
    if fp ~= ifp then return {'conflict'} end
    return {'replayed', tx_fields(txid)}
  end
end

clean_released(now, 100)

local best_k, best_card = nil, nil
for ci = 13, #ARGV do
  local grid = grid_key(ARGV[ci], ms(frac))
  local function taken(k)
    return redis.call('ZCOUNT', grid, ms(base + 1), ms(base + k))
  end
  -- Only offsets below the best found on an earlier card can beat it (an
  -- earlier card wins a tie: every card at offset k before k+1).
  local hi = best_k and best_k - 1 or limit
  if hi >= 1 and taken(hi) < hi then
    local lo = 1
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if taken(mid) < mid then hi = mid else lo = mid + 1 end
    end
    best_k, best_card = lo, ci
  end
end
if not best_k then return {'nofree'} end

local card = ARGV[best_card]
local whole = ms(base + best_k)
local amount = whole .. string.format('%02d', frac)
local field = card .. '|' .. amount
redis.call('SET', P .. 'hold:' .. field, id .. '|')
redis.call('ZREM', P .. 'hold_release', field)
redis.call('ZADD', grid_key(card, ms(frac)), whole, amount)
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
return {'created', best_card - 13, best_k}
