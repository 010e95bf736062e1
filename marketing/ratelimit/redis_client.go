package ratelimit

import "github.com/redis/go-redis/v9"

// honoursDeadlines reports whether c bounds its socket reads by the context
// deadline. go-redis ignores context deadlines on the socket unless
// ContextTimeoutEnabled is set; without it Options.RedisTimeout cannot cut
// a call to a Redis that accepts connections and never answers, which then
// costs the client's ReadTimeout (seconds) per call until the circuit opens.
// known is false for clients whose options cannot be read.
func honoursDeadlines(c redis.UniversalClient) (enabled, known bool) {
	switch c := c.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled, true
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled, true
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled, true
	}
	return false, false
}
