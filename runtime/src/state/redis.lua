-- Check and take one decision's subjects, all or nothing (runtime/src/state/redis.rs).
-- KEYS: per subject, its use log (a list of use times, newest first) and its failures (a
--       sorted set scored by time).
-- ARGV: per subject: k (uses it takes), the number of rate limits, (count, per_ms) per limit,
--       the breaker's failures (0: no breaker) and cooldown_ms.
-- Returns {} when taken, else (subject number from 1, kind (1 rate, 2 breaker), wait_ms) per
-- blocked subject. Time is the Redis server's, so replicas with skewed clocks agree.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local a = 1
local blocked = {}
local todo = {}
for i = 1, #KEYS / 2 do
  local uses, fails = KEYS[2 * i - 1], KEYS[2 * i]
  local k, nr = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  local keep, window, kind, wait = 0, 0, 0, 0
  for _ = 1, nr do
    local count, per = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
    a = a + 2
    if count > keep then keep = count end
    if per > window then window = per end
    local w = 0
    if k > count then
      w = math.max(per, 1)
    else
      -- Room for k more uses: the (count - k + 1)-th most recent use has left the window.
      local old = redis.call('LINDEX', uses, count - k)
      if old then
        local e = tonumber(old) + per
        if e > now then w = e - now end
      end
    end
    if w > wait then kind, wait = 1, w end
  end
  local bf, bc = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  if bf > 0 then
    -- Open while the bf-th most recent failure is within the cooldown.
    local r = redis.call('ZREVRANGE', fails, bf - 1, bf - 1, 'WITHSCORES')
    if r[2] then
      local e = tonumber(r[2]) + bc
      if e > now then kind, wait = 2, e - now end
    end
  end
  if kind > 0 then
    blocked[#blocked + 1] = i
    blocked[#blocked + 1] = kind
    blocked[#blocked + 1] = math.max(wait, 1)
  else
    todo[#todo + 1] = {uses, k, keep, window}
  end
end
if #blocked > 0 then return blocked end
local stamp = string.format('%d', now)
for _, p in ipairs(todo) do
  if p[3] > 0 then
    for _ = 1, p[2] do redis.call('LPUSH', p[1], stamp) end
    redis.call('LTRIM', p[1], 0, p[3] - 1)
    redis.call('PEXPIRE', p[1], math.max(p[4], 1))
  end
end
return blocked
