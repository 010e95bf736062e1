package main

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/internal/health"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// Readiness checks of each dependency a process may have (GET /readyz). Each is one cheap
// call; none reaches the SOAP third parties: a partner that is down fails its own actions
// (circuit breaker, 503 per action), and an edge taken out of service for it would fail
// every other action and the logins too.

// storeCheck reads one row of the message store.
func storeCheck(st store.Store) health.Check {
	return health.Check{Name: "store", Probe: func(ctx context.Context) error {
		_, err := st.MaxSeq(ctx, "readyz")
		return err
	}}
}

// redisCheck PINGs Redis, under name (the route table's, or the edge's limits'); none
// without Redis, the in-process equivalents having nothing to reach.
func redisCheck(name string, rc *redis.Client) []health.Check {
	if rc == nil {
		return nil
	}
	return []health.Check{{Name: name, Probe: func(ctx context.Context) error { return rc.Ping(ctx).Err() }}}
}

// campaignsCheck pings the campaign store.
func campaignsCheck(cs *campaign.Store) health.Check {
	return health.Check{Name: "campaigns", Probe: cs.Ping}
}

// gatewayCheck is the gateway's own state: not ready while draining or shutting down.
func gatewayCheck(gw *gateway.Gateway) health.Check {
	return health.Check{Name: "gateway", Probe: func(context.Context) error { return gw.Ready() }}
}

// logicCheck asks logic to renew no route for node: any answer from logic, an IMError
// included, shows it reachable; only a call that gets no answer fails.
func logicCheck(lg logicgen.LogicService, node string) health.Check {
	return health.Check{Name: "logic", Probe: func(ctx context.Context) error {
		_, err := lg.Renew(ctx, &logicgen.RenewRequest{Node: node})
		var ime *common.IMError
		if errors.As(err, &ime) {
			return nil
		}
		return err
	}}
}
