-- The expiry holds: each process whose message source is behind holds the
-- sweep under its own name (`expiry_hold:<holder>`, expiring by itself, on
-- Redis's clock), listed in the set `expiry_holders`. What must stay true:
-- a process ends only its own hold, so one catching up never lifts another's.
-- ARGV: op ('hold' | 'release' | 'held'), holder, ttl ms (for 'hold').
local op, holder = ARGV[1], ARGV[2]
local set = P .. 'expiry_holders'
if op == 'hold' then
  redis.call('SET', P .. 'expiry_hold:' .. holder, '1', 'PX', ARGV[3])
  redis.call('SADD', set, holder)
  return 1
elseif op == 'release' then
  redis.call('DEL', P .. 'expiry_hold:' .. holder)
  redis.call('SREM', set, holder)
  return 1
end
-- 'held': forgets holders whose hold lapsed (their process died).
for _, h in ipairs(redis.call('SMEMBERS', set)) do
  if redis.call('EXISTS', P .. 'expiry_hold:' .. h) == 1 then return 1 end
  redis.call('SREM', set, h)
end
return 0
