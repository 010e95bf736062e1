package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/tracing"
)

// TokenVerifier checks a client's token; *auth.Tokens implements it. Errors wrap
// auth.ErrTokenExpired or auth.ErrTokenInvalid.
type TokenVerifier interface {
	Verify(token string) (auth.Claims, error)
}

// Gateway is one node of the Entry layer. It implements gen/gateway.GatewayService.
type Gateway struct {
	cfg    Config
	logic  logicgen.LogicService
	tokens TokenVerifier
	log    *slog.Logger

	tracing    bool         // Config.TracerProvider was set: requests get spans
	tracer     trace.Tracer // client requests
	pushTracer trace.Tracer // pushes, inside a trace only
	metrics    *Metrics     // nil: none

	epoch  time.Time     // origin of the monotonic clock sessions keep as int64
	logins chan struct{} // a slot per login at logic now (MaxLoginsInFlight); nil: no bound
	ids    *connIDs
	table  *table
	flush  *flusher
	disc   *disconnector
	stats  counters
	addrs  *addrCap // per-address connection cap of both listeners

	readBufs sync.Pool // *[readBufSize]byte for the goroutine IO model, held only while reading

	kickSlow []byte // KICK{SLOW_CONSUMER}, encoded once and shared by every overflow

	// ctx bounds background work and logic calls; Shutdown cancels it last.
	ctx    context.Context
	cancel context.CancelFunc

	draining atomic.Bool   // no new logins
	refusing atomic.Bool   // no new connections: Shutdown has begun
	closed   chan struct{} // signalled whenever a session closes, for Shutdown to wait on

	stopBG chan struct{}  // closed by Shutdown: stops the sweeper and the renewer
	wg     sync.WaitGroup // accept loops, readers, sweeper, renewer; Add only via track after Start

	mu       sync.Mutex // guards the fields below
	started  bool
	stopping bool
	tcp      listener
	ws       listener
}

// listener is one accepting transport.
type listener interface {
	addr() net.Addr
	// stop stops accepting and releases the listener; connections are closed by then.
	stop(ctx context.Context) error
}

// New checks cfg and returns a Gateway that has started nothing: Start binds.
func New(cfg Config, logic logicgen.LogicService, tokens TokenVerifier, logger *slog.Logger) (*Gateway, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logic == nil || tokens == nil {
		return nil, errors.New("gateway: logic and tokens are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{
		cfg:    cfg,
		logic:  logic,
		tokens: tokens,
		log:    logger,
		epoch:  time.Now(),
		ids:    newConnIDs(),
		logins: loginSlots(cfg.MaxLoginsInFlight),
		table:  newTable(cfg.Shards),
		ctx:    ctx,
		cancel: cancel,
		closed: make(chan struct{}, 1),
		stopBG: make(chan struct{}),
		kickSlow: encode(protocol.OpKick, 0, &frame.Kick{
			Reason:  int32(frame.KickReason_SLOW_CONSUMER),
			Message: "send queue full: reconnect and sync",
		}),
	}
	_, off := cfg.TracerProvider.(noop.TracerProvider) // tracing disabled (OTEL_SDK_DISABLED)
	g.tracing = cfg.TracerProvider != nil && !off
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = noop.NewTracerProvider()
	}
	g.tracer = cfg.TracerProvider.Tracer(instrumentationName)
	g.pushTracer = tracing.ChildOnly(cfg.TracerProvider).Tracer(instrumentationName)
	if cfg.Metrics != nil {
		if g.metrics, err = newMetrics(cfg.Metrics, g); err != nil {
			cancel()
			return nil, fmt.Errorf("gateway metrics: %w", err)
		}
	}
	g.addrs = newAddrCap(g, cfg.MaxConnsPerAddr)
	g.flush = newFlusher(g)
	g.disc = newDisconnector(g)
	return g, nil
}

var _ gatewaygen.GatewayService = (*Gateway)(nil)

// flushWorkers is sized for writes that block: a worker stuck on a slow peer (until its
// queue overflows or the write times out) must not stall every other connection.
func flushWorkers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// disconnectWorkers bound how many Disconnect calls run at once after a mass close.
const disconnectWorkers = 4

// writeTimeout bounds one batched write; a peer that takes longer is dropped.
const writeTimeout = 10 * time.Second

// Start binds the configured listeners and starts serving. It returns bind errors.
func (g *Gateway) Start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started || g.stopping {
		return ErrStarted
	}
	if g.cfg.TCPAddr != Disabled {
		var err error
		switch g.cfg.IOModel {
		case IOModelEventLoop:
			g.tcp, err = g.listenEventLoop(g.cfg.TCPAddr)
		case IOModelNetpoll:
			g.tcp, err = g.listenNetpoll(g.cfg.TCPAddr)
		default:
			g.tcp, err = g.listenStd(g.cfg.TCPAddr)
		}
		if err != nil {
			return fmt.Errorf("gateway tcp listen %s: %w", g.cfg.TCPAddr, err)
		}
	}
	if g.cfg.WSAddr != Disabled {
		ws, err := g.listenWS(g.cfg.WSAddr)
		if err != nil {
			if g.tcp != nil {
				_ = g.tcp.stop(g.ctx)
				g.tcp = nil
			}
			return fmt.Errorf("gateway websocket listen %s: %w", g.cfg.WSAddr, err)
		}
		g.ws = ws
	}
	g.started = true
	g.flush.start(flushWorkers())
	g.disc.start(disconnectWorkers)
	g.wg.Add(2)
	go g.sweep()
	go g.renew()
	g.log.Info("gateway started", "node", g.cfg.Node, "io_model", g.cfg.IOModel,
		"tcp", addrString(g.tcp), "ws", addrString(g.ws))
	return nil
}

// TCPAddr is the bound TCP address, nil when disabled or not started.
func (g *Gateway) TCPAddr() net.Addr {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tcp == nil {
		return nil
	}
	return g.tcp.addr()
}

// WSAddr is the bound WebSocket address (path /ws), nil when disabled or not started.
func (g *Gateway) WSAddr() net.Addr {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ws == nil {
		return nil
	}
	return g.ws.addr()
}

// Ready returns ErrNotServing unless the gateway takes new connections and logins:
// started, and neither draining nor shutting down (readiness).
func (g *Gateway) Ready() error {
	g.mu.Lock()
	started, stopping := g.started, g.stopping
	g.mu.Unlock()
	if !started || stopping || g.draining.Load() || g.refusing.Load() {
		return ErrNotServing
	}
	return nil
}

// Stats returns the current counters.
func (g *Gateway) Stats() Stats { return g.stats.snapshot() }

// now is the gateway's monotonic clock in nanoseconds, never 0.
func (g *Gateway) now() int64 { return int64(time.Since(g.epoch)) + 1 }

// track registers a goroutine owned by the gateway, unless it is stopping: Add must not
// race with Shutdown's Wait.
func (g *Gateway) track() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopping {
		return false
	}
	g.wg.Add(1)
	return true
}

func (g *Gateway) signalClosed() {
	select {
	case g.closed <- struct{}{}:
	default:
	}
}

func addrString(l listener) string {
	if l == nil {
		return Disabled
	}
	return l.addr().String()
}
