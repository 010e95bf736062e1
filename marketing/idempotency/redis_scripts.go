package idempotency

import "github.com/redis/go-redis/v9"

// Each key is a hash: state ("pending" or "done"), fp, and for a done key
// status, ct (content type), body and at (CreatedAt, unix ms). Every
// check-and-set runs as one script so no other edge process can interleave.
type scripts struct {
	begin, complete, abort *redis.Script
}

func newScripts() scripts {
	return scripts{
		// KEYS[1] key; ARGV fingerprint, lease ms.
		// Returns {1} when claimed, else {0, state, fp, status, ct, body, at}.
		begin: redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'fp', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
local r = redis.call('HMGET', KEYS[1], 'fp', 'status', 'ct', 'body', 'at')
return {0, st, r[1] or '', r[2] or '', r[3] or '', r[4] or '', r[5] or ''}
`),
		// KEYS[1] key; ARGV fingerprint, status, content type, body, at, ttl ms.
		// Returns 1 when stored, 0 when the key is done or claimed by another
		// request.
		complete: redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'done' then return 0 end
if st and redis.call('HGET', KEYS[1], 'fp') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done', 'fp', ARGV[1], 'status', ARGV[2], 'ct', ARGV[3], 'body', ARGV[4], 'at', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
`),
		// KEYS[1] key. Deletes a claim, never a record.
		abort: redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') == 'pending' then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`),
	}
}
