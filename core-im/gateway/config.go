package gateway

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/protocol"
)

// IO models of the TCP listener.
const (
	IOModelEventLoop = "eventloop" // gnet's event loops: no goroutine and no buffer per idle connection
	IOModelNetpoll   = "netpoll"   // event-driven: no goroutine per idle connection, netpoll's buffers
	IOModelGoroutine = "goroutine" // std net: one reader goroutine per connection
)

// Disabled as a listen address turns that listener off.
const Disabled = "-"

// Listener defaults (Config.UpgradeTimeout, Config.MaxConnsPerAddr).
const (
	DefaultUpgradeTimeout  = 5 * time.Second
	DefaultMaxConnsPerAddr = 256
	// DefaultMaxLoginsInFlight: at ~0.5 ms of logic per login (BENCHMARKS 9.1), 128 per
	// gateway keeps a storm's queue at logic well under its call budget.
	DefaultMaxLoginsInFlight = 128
)

// The per-connection frame limit (Config.FrameRate, FrameBurst): a token bucket.
const (
	DefaultFrameRate  = 50
	DefaultFrameBurst = 100
)

// The send window (Config.SendWindow): SENDs a connection may have unanswered.
const (
	DefaultSendWindow = 32
	MaxSendWindow     = 256 // logic's MaxSendBatch
)

// Config of a gateway node. Every zero field takes the default its comment names.
type Config struct {
	TCPAddr string // "" means ":8800"; "-" disables the TCP listener
	WSAddr  string // "" means ":8801" (path /ws); "-" disables the WebSocket listener
	Node    string // this node's id as the route table stores it; "" means "local"
	IOModel string // "eventloop" (default), "goroutine" or "netpoll": BENCHMARKS.md 1.3 and 8 say why

	AuthTimeout       time.Duration // 0 means 10s: the AUTH frame must arrive within it
	HeartbeatInterval time.Duration // 0 means 30s: told to clients unless logic says otherwise
	IdleTimeout       time.Duration // 0 means 3×HeartbeatInterval without any frame

	SendQueue int // frames queued per connection; 0 means 256
	MaxBody   int // body bytes per frame; 0 means protocol.DefaultMaxBody
	Shards    int // session table shards; 0 means 256

	RenewInterval time.Duration // 0 means HeartbeatInterval: how often routes are renewed
	RenewRetry    time.Duration // 0 means 1s: the first wait after a failed renewal, doubling up to 5s (at most RenewInterval)

	// SendWindow is how many SENDs a connection may have unanswered: they are stored in
	// one logic call per round, in order (docs/protocol.md). Past it the gateway reads no
	// more of the connection until a round returns. 0 means 32; at most 256.
	SendWindow int

	FrameRate  float64 // frames per second per connection; 0 means DefaultFrameRate
	FrameBurst int     // 0 means DefaultFrameBurst

	DrainMaxDelay time.Duration // 0 means 5s: clients reconnect within [0, DrainMaxDelay)

	// UpgradeTimeout bounds the WebSocket handshake: the whole HTTP upgrade request must
	// arrive within it of the accept, or the connection is closed. 0 means 5s.
	UpgradeTimeout time.Duration
	// MaxConnsPerAddr caps the connections one client IP address holds open on this node,
	// TCP and WebSocket together (counted from the accept, so a WebSocket connection still
	// upgrading counts); one more is closed at accept. 0 means 256; negative means no cap.
	MaxConnsPerAddr int
	// MaxLoginsInFlight bounds the logins (first AUTHs) this node has at logic at once; one
	// more is refused at once with ERROR UNAVAILABLE, temporary, and a retry-after, instead of
	// queueing behind the others until it times out: a reconnect storm (a gateway lost, an
	// outage over) is then served at logic's pace rather than collapsing. A renewal AUTH is
	// never refused for it. 0 means 128; negative means no bound.
	MaxLoginsInFlight int

	// TracerProvider, when set, gives each client request (AUTH, SEND, SYNC, READ,
	// DELIVER_ACK) a server span joining the frame's trace context, and each push made
	// inside a trace a span; replies name the span's trace. nil: no spans, and replies
	// name the trace the client sent, if any.
	TracerProvider trace.TracerProvider
	// Metrics, when set, receives the gateway's metrics (see newMetrics). One gateway per
	// registry: a second one sharing it fails New.
	Metrics prometheus.Registerer
}

func (c Config) withDefaults() (Config, error) {
	if c.TCPAddr == "" {
		c.TCPAddr = ":8800"
	}
	if c.WSAddr == "" {
		c.WSAddr = ":8801"
	}
	if c.Node == "" {
		c.Node = "local"
	}
	if c.IOModel == "" {
		// Measured side by side (BENCHMARKS.md 8): an idle event-loop connection holds 2.9 KB
		// of live memory, a goroutine-model one 12 KB (its reader's stack) and a netpoll one
		// 18 KB (its LinkBuffers), at chat throughput equal within the machine's noise.
		c.IOModel = IOModelEventLoop
	}
	if c.IOModel != IOModelNetpoll && c.IOModel != IOModelGoroutine && c.IOModel != IOModelEventLoop {
		return c, fmt.Errorf("gateway config: io model %q: want %q, %q or %q", c.IOModel, IOModelEventLoop, IOModelGoroutine, IOModelNetpoll)
	}
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = 10 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 30 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 3 * c.HeartbeatInterval
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 256
	}
	if c.SendWindow <= 0 {
		c.SendWindow = DefaultSendWindow
	}
	if c.SendWindow > MaxSendWindow {
		return c, fmt.Errorf("gateway config: send window %d: at most %d", c.SendWindow, MaxSendWindow)
	}
	if c.MaxBody <= 0 {
		c.MaxBody = protocol.DefaultMaxBody
	}
	if c.Shards <= 0 {
		c.Shards = 256
	}
	if c.RenewInterval <= 0 {
		c.RenewInterval = c.HeartbeatInterval
	}
	if c.RenewRetry <= 0 {
		c.RenewRetry = time.Second
	}
	if c.FrameRate <= 0 {
		c.FrameRate = DefaultFrameRate
	}
	if c.FrameBurst <= 0 {
		c.FrameBurst = DefaultFrameBurst
	}
	if c.DrainMaxDelay <= 0 {
		c.DrainMaxDelay = 5 * time.Second
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.MaxConnsPerAddr == 0 {
		c.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	}
	if c.MaxLoginsInFlight == 0 {
		c.MaxLoginsInFlight = DefaultMaxLoginsInFlight
	}

	return c, nil
}

// maxFrame is the largest encoded frame a client may send.
func (c Config) maxFrame() int { return protocol.HeaderSize + protocol.TraceSize + c.MaxBody }

// sweepInterval is how often the sweeper looks for connections past their auth or idle
// deadline: a quarter of the shorter one, so a deadline is overrun by at most 25%.
func (c Config) sweepInterval() time.Duration {
	d := min(c.AuthTimeout, c.IdleTimeout) / 4
	return min(max(d, 10*time.Millisecond), 5*time.Second)
}
