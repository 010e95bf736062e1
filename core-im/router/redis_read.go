package router

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// countBatch is how many index members Count verifies per round trip.
const countBatch = 512

func (t *redisTable) Lookup(ctx context.Context, users []string) (map[string][]Route, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := checkUsers(users); err != nil {
		return nil, err
	}
	out := make(map[string][]Route, len(users))
	if len(users) == 0 {
		return out, nil
	}
	uniq := make([]string, 0, len(users))
	seen := make(map[string]struct{}, len(users))
	for _, u := range users {
		if _, dup := seen[u]; !dup {
			seen[u] = struct{}{}
			uniq = append(uniq, u)
		}
	}
	// TIME rides in the same round trip so expiry is judged by the same
	// clock the scripts use.
	var now *redis.TimeCmd
	hashes := make([]*redis.MapStringStringCmd, len(uniq))
	err := t.exec(ctx, func(p redis.Pipeliner) {
		now = p.Time(ctx)
		for i, u := range uniq {
			hashes[i] = p.HGetAll(ctx, t.userKey(u))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("lookup routes: %w", err)
	}
	nowMs := now.Val().UnixMilli()
	var stale map[string][]any // user -> devices
	for i, u := range uniq {
		var rs []Route
		for dev, v := range hashes[i].Val() {
			r, exp, err := decodeValue(u, dev, v)
			if err != nil || exp <= nowMs {
				if stale == nil {
					stale = make(map[string][]any)
				}
				stale[u] = append(stale[u], dev)
				continue
			}
			rs = append(rs, r)
		}
		if len(rs) > 0 {
			sortByDevice(rs)
			out[u] = rs
		}
	}
	if stale != nil {
		t.prune(ctx, stale)
	}
	return out, nil
}

// prune deletes the stale devices a read saw, so a user whose other devices
// keep the hash alive does not carry dead ones forever. Failing here costs
// nothing but memory, so it is logged, not returned.
func (t *redisTable) prune(ctx context.Context, stale map[string][]any) {
	err := t.exec(ctx, func(p redis.Pipeliner) {
		for u, devs := range stale {
			t.scripts.prune.EvalSha(ctx, p, []string{t.userKey(u)}, devs...)
		}
	})
	if err != nil {
		t.log.WarnContext(ctx, "route prune failed", "users", len(stale), "err", err)
	}
}

// Count walks the node's index set and counts the members whose route is
// live and still held by that connection, so it is exact whatever stale
// members the set carries; those it drops.
func (t *redisTable) Count(ctx context.Context, node string) (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	if err := checkID("node", node); err != nil {
		return 0, err
	}
	nk := t.nodeKey(node)
	// SSCAN may return a member twice, hence the set.
	liveSet := make(map[string]struct{})
	var stale []any
	var cursor uint64
	for {
		members, next, err := t.c.SScan(ctx, nk, cursor, "", countBatch).Result()
		if err != nil {
			return 0, fmt.Errorf("count routes of %s: %w", node, err)
		}
		live, dead, err := t.verify(ctx, node, members)
		if err != nil {
			return 0, fmt.Errorf("count routes of %s: %w", node, err)
		}
		for _, m := range live {
			liveSet[m] = struct{}{}
		}
		stale = append(stale, dead...)
		cursor = next
		if cursor == 0 {
			break
		}
	}
	if len(stale) > 0 {
		if err := t.c.SRem(ctx, nk, stale...).Err(); err != nil {
			t.log.WarnContext(ctx, "route index cleanup failed", "node", node, "err", err)
		}
	}
	return len(liveSet), nil
}

// verify splits index members of node into those whose route is live and
// held by that connection, and the rest.
func (t *redisTable) verify(ctx context.Context, node string, members []string) (live []string, dead []any, err error) {
	if len(members) == 0 {
		return nil, nil, nil
	}
	type probe struct {
		member, user, device, conn string
		cmd                        *redis.StringCmd
	}
	probes := make([]probe, 0, len(members))
	for _, m := range members {
		user, device, conn, err := decodeMember(m)
		if err != nil {
			dead = append(dead, m)
			continue
		}
		probes = append(probes, probe{member: m, user: user, device: device, conn: conn})
	}
	var now *redis.TimeCmd
	err = t.exec(ctx, func(p redis.Pipeliner) {
		now = p.Time(ctx)
		for i := range probes {
			probes[i].cmd = p.HGet(ctx, t.userKey(probes[i].user), probes[i].device)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	nowMs := now.Val().UnixMilli()
	for _, pr := range probes {
		v, err := pr.cmd.Result()
		if err == nil {
			r, exp, derr := decodeValue(pr.user, pr.device, v)
			if derr == nil && exp > nowMs && r.Node == node && r.ConnID == pr.conn {
				live = append(live, pr.member)
				continue
			}
		}
		dead = append(dead, pr.member)
	}
	return live, dead, nil
}
