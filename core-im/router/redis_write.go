package router

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

func (t *redisTable) Put(ctx context.Context, r Route, ttl time.Duration) (*Route, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := checkRoute(&r); err != nil {
		return nil, err
	}
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	nk := t.nodeKey(r.Node)
	var put *redis.Cmd
	err := t.exec(ctx, func(p redis.Pipeliner) {
		put = t.scripts.put.EvalSha(ctx, p, []string{t.userKey(r.UserID)},
			r.DeviceID, encodeOwner(r.Node, r.ConnID), encodeRest(msTime(r.Since), r.Platform), ttlMs(ttl))
		p.SAdd(ctx, nk, encodeMember(r.UserID, r.DeviceID, r.ConnID))
		t.touchIndex(ctx, p, nk, ttl)
	})
	if err != nil {
		return nil, fmt.Errorf("put route: %w", err)
	}
	prev, err := put.Text()
	if err != nil {
		return nil, fmt.Errorf("put route: %w", err)
	}
	if prev == "" {
		return nil, nil
	}
	old, _, err := decodeValue(r.UserID, r.DeviceID, prev)
	if err != nil {
		// The route is stored; only the value it replaced is unreadable.
		return nil, fmt.Errorf("put route: replaced value: %w", err)
	}
	// Keep the old node's index small; Count would drop the member anyway.
	if err := t.c.SRem(ctx, t.nodeKey(old.Node), encodeMember(old.UserID, old.DeviceID, old.ConnID)).Err(); err != nil {
		t.log.WarnContext(ctx, "route index cleanup failed", "node", old.Node, "err", err)
	}
	return &old, nil
}

func (t *redisTable) Remove(ctx context.Context, r Route) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	if err := checkConn(&r); err != nil {
		return false, err
	}
	var rm *redis.Cmd
	err := t.exec(ctx, func(p redis.Pipeliner) {
		rm = t.scripts.remove.EvalSha(ctx, p, []string{t.userKey(r.UserID)},
			r.DeviceID, encodeOwner(r.Node, r.ConnID))
		// Whatever the script finds, this connection holds the route no
		// longer, so its index member is stale either way.
		p.SRem(ctx, t.nodeKey(r.Node), encodeMember(r.UserID, r.DeviceID, r.ConnID))
	})
	if err != nil {
		return false, fmt.Errorf("remove route: %w", err)
	}
	n, err := rm.Int()
	if err != nil {
		return false, fmt.Errorf("remove route: %w", err)
	}
	return n == 1, nil
}

func (t *redisTable) Renew(ctx context.Context, rs []Route, ttl time.Duration) ([]Route, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	for i := range rs {
		if err := checkConn(&rs[i]); err != nil {
			return nil, err
		}
	}
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	members := make(map[string][]any) // node key -> members
	for i := range rs {
		nk := t.nodeKey(rs[i].Node)
		members[nk] = append(members[nk], encodeMember(rs[i].UserID, rs[i].DeviceID, rs[i].ConnID))
	}
	cmds := make([]*redis.Cmd, len(rs))
	ms := ttlMs(ttl)
	err := t.exec(ctx, func(p redis.Pipeliner) {
		for i := range rs {
			cmds[i] = t.scripts.renew.EvalSha(ctx, p, []string{t.userKey(rs[i].UserID)},
				rs[i].DeviceID, encodeOwner(rs[i].Node, rs[i].ConnID), ms)
		}
		// Re-adding live members repairs the index should a race in
		// Count have dropped one; lost ones are taken out below.
		for nk, mem := range members {
			p.SAdd(ctx, nk, mem...)
			t.touchIndex(ctx, p, nk, ttl)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("renew routes: %w", err)
	}
	var lost []Route
	for i, c := range cmds {
		n, err := c.Int()
		if err != nil {
			return nil, fmt.Errorf("renew routes: %w", err)
		}
		if n != 1 {
			lost = append(lost, rs[i])
		}
	}
	if len(lost) > 0 {
		t.unindex(ctx, lost)
	}
	return lost, nil
}

// unindex takes lost routes out of their nodes' index sets, best effort.
func (t *redisTable) unindex(ctx context.Context, lost []Route) {
	err := t.exec(ctx, func(p redis.Pipeliner) {
		for i := range lost {
			p.SRem(ctx, t.nodeKey(lost[i].Node), encodeMember(lost[i].UserID, lost[i].DeviceID, lost[i].ConnID))
		}
	})
	if err != nil {
		t.log.WarnContext(ctx, "route index cleanup failed", "routes", len(lost), "err", err)
	}
}
