// Package discovery finds bangbang's nodes through etcd, with Kitex's etcd registry
// (github.com/kitex-contrib/registry-etcd): logic and gateway nodes register under a lease
// that a killed node stops renewing, and clients resolve a service name to the live nodes.
//
// Logic nodes register as ServiceLogic at their Kitex address; gateways find them through
// a Resolver and balance over them. Gateway nodes register as ServiceGateway at their push
// address (the route table's node id, which logic dials), with their public IM addresses
// as tags (TagTCP, TagWS), so the edge can tell a logging-in app every gateway (Gateways).
//
// Without endpoints nothing here is used: static addresses keep working and one process
// needs no etcd.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudwego/kitex/pkg/discovery"
	"github.com/cloudwego/kitex/pkg/registry"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	etcd "github.com/kitex-contrib/registry-etcd"
	"github.com/kitex-contrib/registry-etcd/retry"
)

// Service names in etcd.
const (
	ServiceLogic   = "bangbang-logic"
	ServiceGateway = "bangbang-gateway"
)

// Tags a gateway registers with: the addresses apps connect to.
const (
	TagTCP = "im_tcp"
	TagWS  = "im_ws"
)

// DefaultWeight is every node's weight: nodes of a kind are alike.
const DefaultWeight = 10

// DefaultPrefix is the key prefix in etcd; deployments sharing an etcd take their own.
const DefaultPrefix = "bangbang"

// DefaultLeaseTTL is how long a killed node stays listed: long enough for a pause or an
// etcd leader election, short enough that clients stop picking it soon. The registry
// reads it from KITEX_ETCD_REGISTRY_LEASE_TTL (seconds), which an operator may set.
const DefaultLeaseTTL = 10 * time.Second

const leaseTTLEnv = "KITEX_ETCD_REGISTRY_LEASE_TTL"

// ErrNoEndpoints is a Config without any etcd endpoint.
var ErrNoEndpoints = errors.New("discovery: no etcd endpoint")

// Config says where etcd is.
type Config struct {
	Endpoints []string      // host:port of each etcd member
	Prefix    string        // "" means DefaultPrefix
	Dial      time.Duration // bound on connecting to etcd; 0 means 5 s
}

// ParseEndpoints reads a comma-separated list ("10.0.0.1:2379,10.0.0.2:2379"); blanks are
// dropped.
func ParseEndpoints(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func (c Config) options() ([]etcd.Option, error) {
	if len(c.Endpoints) == 0 {
		return nil, ErrNoEndpoints
	}
	prefix := c.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if strings.Contains(prefix, "%") {
		return nil, fmt.Errorf("discovery: prefix %q: %%", prefix)
	}
	dial := c.Dial
	if dial <= 0 {
		dial = 5 * time.Second
	}
	return []etcd.Option{etcd.WithEtcdServicePrefix(prefix), etcd.WithDialTimeoutOpt(dial)}, nil
}

var leaseOnce sync.Once

// NewRegistry returns the registry a Kitex server registers with (server.WithRegistry).
// Its lease lives DefaultLeaseTTL unless KITEX_ETCD_REGISTRY_LEASE_TTL says otherwise; the
// registration is checked every few seconds and made again, for as long as the process
// runs, when etcd lost it (a restart without its data, an expired lease).
func NewRegistry(c Config) (registry.Registry, error) {
	opts, err := c.options()
	if err != nil {
		return nil, err
	}
	leaseOnce.Do(func() {
		if _, set := os.LookupEnv(leaseTTLEnv); !set {
			_ = os.Setenv(leaseTTLEnv, strconv.Itoa(int(DefaultLeaseTTL/time.Second)))
		}
	})
	rc := retry.NewRetryConfig(
		retry.WithMaxAttemptTimes(0), // never give up: etcd down for a minute must not unlist a node for good
		retry.WithObserveDelay(3*time.Second),
		retry.WithRetryDelay(time.Second),
	)
	r, err := etcd.NewEtcdRegistryWithRetry(c.Endpoints, rc, opts...)
	if err != nil {
		return nil, fmt.Errorf("discovery: etcd registry: %w", err)
	}
	return r, nil
}

// NewResolver returns the resolver a Kitex client finds a service's nodes with
// (client.WithResolver); the client's destination service is the name looked up.
func NewResolver(c Config) (discovery.Resolver, error) {
	opts, err := c.options()
	if err != nil {
		return nil, err
	}
	r, err := etcd.NewEtcdResolver(c.Endpoints, opts...)
	if err != nil {
		return nil, fmt.Errorf("discovery: etcd resolver: %w", err)
	}
	return r, nil
}

// GatewayAddrs are the addresses of one live gateway node.
type GatewayAddrs struct {
	Node string // its push address, the route table's node id
	TCP  string // where apps connect (TagTCP)
	WS   string // "" when it serves no WebSocket (TagWS)
}

// Gateways lists the live gateway nodes, for the edge to hand apps every address. It
// caches an answer for a few seconds, so a burst of logins costs etcd one read; one caller
// at a time reads etcd, the others meanwhile get the last list.
type Gateways struct {
	r   discovery.Resolver
	ttl time.Duration
	now func() time.Time

	mu         sync.Mutex
	cached     []GatewayAddrs
	fetched    time.Time // of the last read, answered or not
	refreshing bool
}

// NewGateways lists ServiceGateway through r, caching each answer for ttl.
func NewGateways(r discovery.Resolver, ttl time.Duration) *Gateways {
	return &Gateways{r: r, ttl: ttl, now: time.Now}
}

// ErrNoGateway says etcd lists no gateway node.
var ErrNoGateway = errors.New("discovery: no gateway registered")

// listTimeout bounds one read of the gateway list from etcd.
const listTimeout = time.Second

// List returns the gateways that registered an IM TCP address, sorted by node so every
// caller sees the same order. When etcd cannot be read it returns the last list it had, if
// any, with the error, and tries etcd again only after ttl: etcd away costs one caller per
// ttl a wait of at most listTimeout, not every login.
func (g *Gateways) List(ctx context.Context) ([]GatewayAddrs, error) {
	g.mu.Lock()
	if g.refreshing || !g.fetched.IsZero() && g.now().Sub(g.fetched) < g.ttl {
		defer g.mu.Unlock()
		return g.cached, nil
	}
	g.refreshing = true
	g.mu.Unlock()

	out, err := g.read(ctx)

	g.mu.Lock()
	defer g.mu.Unlock()
	g.refreshing, g.fetched = false, g.now()
	if err != nil {
		return g.cached, err
	}
	g.cached = out
	return out, nil
}

func (g *Gateways) read(ctx context.Context) ([]GatewayAddrs, error) {
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	desc := g.r.Target(ctx, rpcinfo.NewEndpointInfo(ServiceGateway, "", nil, nil))
	res, err := g.r.Resolve(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("discovery: list gateways: %w", err)
	}
	out := make([]GatewayAddrs, 0, len(res.Instances))
	for _, in := range res.Instances {
		a := GatewayAddrs{Node: in.Address().String()}
		a.TCP, _ = in.Tag(TagTCP)
		a.WS, _ = in.Tag(TagWS)
		if a.TCP != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoGateway
	}
	slices.SortFunc(out, func(a, b GatewayAddrs) int { return strings.Compare(a.Node, b.Node) })
	return out, nil
}
