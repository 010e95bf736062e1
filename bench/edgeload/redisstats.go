package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisStats reads Redis's script counters, to show the Redis-backed limiter really went
// to Redis once per action, and what each check cost Redis itself. The Redis is shared:
// other clients' scripts count too, so the figure is an upper bound.
type redisStats struct {
	c *redis.Client
}

// scriptCounters are the calls and microseconds of EVAL, EVALSHA and their read-only
// forms (redis_rate's GCRA runs as a script) since Redis started.
type scriptCounters struct {
	Calls int64
	Usec  int64
}

func (r *redisStats) read(ctx context.Context) (scriptCounters, error) {
	info, err := r.c.Info(ctx, "commandstats").Result()
	if err != nil {
		return scriptCounters{}, fmt.Errorf("redis commandstats: %w", err)
	}
	return parseCommandStats(info)
}

// parseCommandStats sums the script commands of INFO commandstats lines such as
// "cmdstat_evalsha:calls=12,usec=340,usec_per_call=28.33,rejected_calls=0,failed_calls=0".
func parseCommandStats(info string) (scriptCounters, error) {
	var sc scriptCounters
	s := bufio.NewScanner(strings.NewReader(info))
	for s.Scan() {
		name, fields, ok := strings.Cut(strings.TrimSpace(s.Text()), ":")
		switch name {
		case "cmdstat_eval", "cmdstat_evalsha", "cmdstat_eval_ro", "cmdstat_evalsha_ro":
		default:
			continue
		}
		if !ok {
			continue
		}
		for _, kv := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k != "calls" && k != "usec" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return sc, fmt.Errorf("redis commandstats %s %s=%q: %w", name, k, v, err)
			}
			if k == "calls" {
				sc.Calls += n
			} else {
				sc.Usec += n
			}
		}
	}
	return sc, s.Err()
}
