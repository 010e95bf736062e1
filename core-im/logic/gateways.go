package logic

import (
	"context"
	"fmt"
	"sync"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/client/callopt"

	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	"github.com/bangbang-im/bangbang/gen/gateway/gatewayservice"
)

// LocalGateways resolves every node to the one in-process gateway (`bangbang all`).
type LocalGateways struct{ GW gatewaygen.GatewayService }

// Gateway returns the local gateway whatever the node.
func (l LocalGateways) Gateway(string) (gatewaygen.GatewayService, error) { return l.GW, nil }

// KitexGateways dials gateway nodes by their push address, one Kitex client per node,
// created on first use and kept.
type KitexGateways struct {
	opts    []client.Option
	mu      sync.Mutex
	clients map[string]gatewaygen.GatewayService
	local   map[string]gatewaygen.GatewayService
}

// NewKitexGateways returns a resolver whose clients use opts (tracing suite, timeouts).
// Nodes listed in local are served in-process instead (a logic and gateway sharing a
// process still reach other nodes over Kitex).
func NewKitexGateways(local map[string]gatewaygen.GatewayService, opts ...client.Option) *KitexGateways {
	return &KitexGateways{opts: opts, clients: map[string]gatewaygen.GatewayService{}, local: local}
}

// Gateway returns the client of node.
func (k *KitexGateways) Gateway(node string) (gatewaygen.GatewayService, error) {
	if gw, ok := k.local[node]; ok {
		return gw, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.clients[node]; ok {
		return c, nil
	}
	opts := append([]client.Option{client.WithHostPorts(node)}, k.opts...)
	c, err := gatewayservice.NewClient("gateway", opts...)
	if err != nil {
		return nil, fmt.Errorf("gateway client %s: %w", node, err)
	}
	gw := remoteGateway{c}
	k.clients[node] = gw
	return gw, nil
}

// remoteGateway adapts the generated client (variadic call options) to the interface.
type remoteGateway struct{ c gatewayservice.Client }

func (r remoteGateway) Deliver(ctx context.Context, req *gatewaygen.DeliverRequest) (*gatewaygen.DeliverResponse, error) {
	return r.c.Deliver(ctx, req)
}

func (r remoteGateway) Kick(ctx context.Context, req *gatewaygen.KickRequest) (*gatewaygen.KickResponse, error) {
	return r.c.Kick(ctx, req)
}

func (r remoteGateway) Drain(ctx context.Context, req *gatewaygen.DrainRequest) (*gatewaygen.DrainResponse, error) {
	return r.c.Drain(ctx, req, callopt.WithRPCTimeout(0))
}
