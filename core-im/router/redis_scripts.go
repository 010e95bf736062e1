package router

import "github.com/redis/go-redis/v9"

// The scripts make every read-modify-write of a user's hash atomic, which is
// what makes replace and compare-and-delete correct under races. Each touches
// only KEYS[1] so it runs on Redis Cluster. Time comes from the Redis server
// (TIME), so gateway nodes with skewed clocks agree on what has expired.

const luaPrelude = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function expiry(v)
  return tonumber(string.match(v, '^(%d+)|'))
end
local function held(v, owner)
  local p = string.find(v, '|', 1, true)
  return p ~= nil and string.sub(v, p + 1, p + #owner) == owner
end
local function ms(n)
  return string.format('%.0f', n)
end
`

// luaPut: ARGV device, owner, rest, ttl ms. Returns the replaced value or "".
// It also drops the user's stale devices and pushes the key's expiry to the
// furthest live one, since Redis 7.0 cannot expire hash fields.
const luaPut = luaPrelude + `
local key, device, owner = KEYS[1], ARGV[1], ARGV[2]
local now = now_ms()
local exp = now + tonumber(ARGV[4])
local replaced = ''
local prev = redis.call('HGET', key, device)
if prev then
  local e = expiry(prev)
  if e and e > now and not held(prev, owner) then replaced = prev end
end
redis.call('HSET', key, device, ms(exp) .. '|' .. owner .. ARGV[3])
local furthest = exp
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local e = expiry(all[i + 1])
  if not e or e <= now then
    redis.call('HDEL', key, all[i])
  elseif e > furthest then
    furthest = e
  end
end
redis.call('PEXPIREAT', key, ms(furthest))
return replaced
`

// luaRemove: ARGV device, owner. Returns 1 if a live route was deleted.
const luaRemove = luaPrelude + `
local key, device = KEYS[1], ARGV[1]
local v = redis.call('HGET', key, device)
if not v or not held(v, ARGV[2]) then return 0 end
redis.call('HDEL', key, device)
local e = expiry(v)
if e and e > now_ms() then return 1 end
return 0
`

// luaRenew: ARGV device, owner, ttl ms. Returns 1 if renewed, 0 if lost.
const luaRenew = luaPrelude + `
local key, device = KEYS[1], ARGV[1]
local v = redis.call('HGET', key, device)
if not v or not held(v, ARGV[2]) then return 0 end
local now = now_ms()
local e = expiry(v)
if not e or e <= now then
  redis.call('HDEL', key, device)
  return 0
end
local exp = now + tonumber(ARGV[3])
local p = string.find(v, '|', 1, true)
redis.call('HSET', key, device, ms(exp) .. string.sub(v, p))
redis.call('PEXPIREAT', key, ms(exp), 'GT')
return 1
`

// luaPrune: ARGV devices seen stale by a read. It re-checks each one, since
// it may have been renewed or replaced since, and deletes it only if still
// stale. Returns how many it deleted.
const luaPrune = luaPrelude + `
local now, n = now_ms(), 0
for i = 1, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    local e = expiry(v)
    if not e or e <= now then
      redis.call('HDEL', KEYS[1], ARGV[i])
      n = n + 1
    end
  end
end
return n
`

type scripts struct {
	put, remove, renew, prune *redis.Script
}

func newScripts() scripts {
	return scripts{
		put:    redis.NewScript(luaPut),
		remove: redis.NewScript(luaRemove),
		renew:  redis.NewScript(luaRenew),
		prune:  redis.NewScript(luaPrune),
	}
}

func (s scripts) all() []*redis.Script {
	return []*redis.Script{s.put, s.remove, s.renew, s.prune}
}
