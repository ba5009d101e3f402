-- Reserves the smallest free offset for a price and stores a pending
-- transaction, or replays an idempotent request. One atomic step: this is
-- what makes allocation safe with several paycue processes on one Redis.
-- ARGV: id, requested, currency, created_at, expires_at, metadata ('' none),
--       idem key ('' none), idem fingerprint, idem ttl ms, the price's whole
--       units, its minor remainder (0..99), LIMIT, ROUND_STEP (0 off), then
--       the card classes in order, each as its size followed by its cards.
-- Returns {'created', class index (0-based), offset} or {'replayed', tx},
-- {'conflict'}, {'nofree'}.
--
-- What must stay true (allocation::candidates is the reference order):
-- an offset k of a class is free when price+k is not a whole multiple of
-- ROUND_STEP and no card of the class has it in its index; the winner is
-- the smallest free k over all classes, the earlier class on a tie, and
-- the card taking it is the class's card number (k-1) mod size + 1.
--
-- Cost: the first non-round offset is checked directly (one ZSCORE per card
-- of the class): that is the whole search for a price with nothing taken.
-- Otherwise a bisection on "how many of price+1 .. price+k are used"
-- (ZCOUNT per card, O(log n), plus the round ones by arithmetic) finds the
-- first k where fewer than k are used: within the first 32 offsets in 6
-- probes, else in about 2 + log2(LIMIT), however many orders are pending. Whole units stay
-- below 2^53 (config caps amounts at 10^13), so Lua's numbers hold them
-- exactly; they are written with ms(), never Lua's default number format.
local id, requested, currency = ARGV[1], ARGV[2], ARGV[3]
local created, expires, metadata = ARGV[4], ARGV[5], ARGV[6]
local ikey, ifp, ittl = ARGV[7], ARGV[8], ARGV[9]
local base, frac, limit = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local round = tonumber(ARGV[13])
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

local frac_s = string.format('%02d', frac)
local rounds = frac == 0 and round > 0

local function is_round(k)
  return rounds and (base + k) % round == 0
end

-- Round offsets among 1..k (they are never issued, so never indexed).
local function round_count(k)
  if not rounds then return 0 end
  return math.floor((base + k) / round) - math.floor(base / round)
end

local classes, i = {}, 14
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local class = {cards = {}, grids = {}}
  for j = 1, n do
    class.cards[j] = ARGV[i + j]
    class.grids[j] = grid_key(ARGV[i + j], ms(frac))
  end
  classes[#classes + 1] = class
  i = i + n + 1
end

-- Offsets among 1..k that are not free on the class: taken on one of its
-- cards or round. Exact while a class's cards never share an amount.
local function used(class, k)
  local n = round_count(k)
  for _, grid in ipairs(class.grids) do
    n = n + redis.call('ZCOUNT', grid, ms(base + 1), ms(base + k))
  end
  return n
end

local function free(class, k)
  if is_round(k) then return false end
  local member = ms(base + k) .. frac_s
  for _, grid in ipairs(class.grids) do
    if redis.call('ZSCORE', grid, member) then return false end
  end
  return true
end

-- The smallest free offset of a class in 1..hi, or nil.
local function smallest(class, hi)
  local first = is_round(1) and 2 or 1
  if first > hi then return nil end
  if free(class, first) then return first end
  -- Two tiers: a busy price usually has a free offset among the first 32
  -- (5 more probes); only a crowded one bisects the whole window.
  local lo, top = first + 1, math.min(32, hi)
  if lo > top then return nil end
  if used(class, top) >= top then
    if top >= hi then return nil end
    lo, top = top + 1, hi
    if used(class, top) >= top then return nil end
  end
  while lo < top do
    local mid = math.floor((lo + top) / 2)
    if used(class, mid) < mid then top = mid else lo = mid + 1 end
  end
  if free(class, lo) then return lo end
  -- The counts were off: data written under other settings (cards
  -- regrouped in CARDS, ROUND_STEP changed) can index one amount twice in
  -- a class, or a round one. Never issue a taken amount: scan.
  for k = 1, hi do
    if free(class, k) then return k end
  end
  return nil
end

local best_k, best_class = nil, nil
for ci, class in ipairs(classes) do
  -- Only offsets below the best found on an earlier class can beat it (an
  -- earlier class wins a tie: every class at offset k before k+1).
  local hi = best_k and best_k - 1 or limit
  if hi >= 1 then
    local k = smallest(class, hi)
    if k then best_k, best_class = k, ci end
  end
end
if not best_k then return {'nofree'} end

local class = classes[best_class]
local card = class.cards[(best_k - 1) % #class.cards + 1]
local whole = ms(base + best_k)
local amount = whole .. frac_s
local field = card .. '|' .. amount
-- (A stale hold_release entry for this field needs no removal here: the
-- cleaner skips a field that is held again.)
redis.call('SET', P .. 'hold:' .. field, id .. '|')
redis.call('ZADD', grid_key(card, ms(frac)), whole, amount)
-- Listings are ordered by a sequence, not by time: several transactions
-- can be created in one millisecond, and "newest first" must be exact.
local seq = redis.call('INCR', P .. 'seq')
redis.call('HSET', P .. 'tx:' .. id, 'id', id, 'status', 'pending', 'amount', amount,
  'requested_amount', requested, 'card', card, 'currency', currency,
  'created_at', created, 'expires_at', expires, 'metadata', metadata, 'hold', field,
  'seq', seq)
redis.call('ZADD', P .. 'deadlines', expires, id)
redis.call('ZADD', P .. 'txs:all', seq, id)
redis.call('ZADD', P .. 'txs:pending', seq, id)
if ikey ~= '' then
  redis.call('SET', P .. 'idem:' .. ikey, ifp .. '|' .. id, 'PX', ittl)
end
return {'created', best_class - 1, best_k}
