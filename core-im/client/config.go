package client

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/protocol"
)

// AckMode says who acknowledges delivery to the server.
type AckMode int

const (
	// AckAuto sends DELIVER_ACK after handing messages to the app, coalesced to at most one
	// ack per ackDelay or per ackBatch messages.
	AckAuto AckMode = iota
	// AckManual leaves it to the app: it calls Ack once it has stored the messages itself.
	AckManual
)

// Config configures a Client. Zero values take the defaults stated on each field.
type Config struct {
	// Addr is the gateway TCP address, host:port. Addr or Addrs is required.
	Addr string
	// Addrs are more gateways, tried after Addr in this order (POST /v1/login's im.nodes,
	// when the server has several): a connection attempt that cannot reach one tries the
	// next at once, and after a gateway refused a login for a moment (UNAVAILABLE) or asked
	// its clients to reconnect (a deploy), the next attempt starts at the next one.
	Addrs []string
	// Token is called at every (re)connect, so the app can refresh an expired token. Required.
	Token func(ctx context.Context) (string, error)
	// DeviceID is stable per installation, 1..64 bytes. Required.
	DeviceID string
	// Platform: "ios", "android", "web" or "cli"; "" means "cli".
	Platform string
	// Dial opens the TCP connection; nil means a net.Dialer. It lets bench programs pick
	// source addresses.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ReconnectMin and ReconnectMax bound the backoff (full jitter) between connection
	// attempts; 0 means 200ms and 10s.
	ReconnectMin, ReconnectMax time.Duration
	// RequestTimeout bounds each connection attempt and each request attempt; 0 means 10s.
	RequestTimeout time.Duration
	// HeartbeatInterval: 0 means the server's value from AUTH_OK (30s if it states none).
	HeartbeatInterval time.Duration
	// ResyncInterval: a connection that received no PUSH for this long syncs anyway, so a
	// message whose push the server could not deliver (a dependency down at that moment)
	// arrives within it even if no later message reveals the gap. 0 means 60s; negative
	// turns it off.
	ResyncInterval time.Duration
	// AckMode: the zero value is AckAuto.
	AckMode AckMode
	// LastSeq is where to resume: the highest inbox seq the app has persisted. 0 on a first
	// run means: start from the device's acked_seq reported by AUTH_OK.
	LastSeq int64
	// Buffer is the capacity of the Messages and Receipts channels; 0 means 1024.
	Buffer int
	// Logger: nil means discard.
	Logger *slog.Logger
	// Trace, optional, returns the trace context to put in each request frame. nil with a
	// TracerProvider means the context of the span in the request's ctx.
	Trace func(ctx context.Context) *protocol.TraceContext
	// TracerProvider, optional, gives each Send a client span ("IM SEND") whose context
	// the SEND frame carries, so the gateway, logic, the store and the recipient's gateway
	// join the sender's trace. The ack's TraceID names it.
	TracerProvider trace.TracerProvider
}

const (
	defaultPlatform       = "cli"
	defaultReconnectMin   = 200 * time.Millisecond
	defaultReconnectMax   = 10 * time.Second
	defaultRequestTimeout = 10 * time.Second
	// defaultHeartbeat applies only when neither the app nor the server states an interval.
	defaultHeartbeat = 30 * time.Second
	defaultBuffer    = 1024
	defaultResync    = 60 * time.Second
	maxDeviceID      = 64
	maxClientMsgID   = 64
)

// addrs are the gateways to try, Addr first, each once.
func (cfg *Config) addrs() []string {
	var out []string
	for _, a := range append([]string{cfg.Addr}, cfg.Addrs...) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// withDefaults validates cfg and fills in the defaults.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.Addr == "" && len(cfg.Addrs) == 0:
		return cfg, fmt.Errorf("config: Addr or Addrs is required: %w", ErrInvalid)
	case slices.Contains(cfg.Addrs, ""):
		return cfg, fmt.Errorf("config: an empty address in Addrs: %w", ErrInvalid)
	case cfg.Token == nil:
		return cfg, fmt.Errorf("config: Token is required: %w", ErrInvalid)
	case cfg.DeviceID == "" || len(cfg.DeviceID) > maxDeviceID:
		return cfg, fmt.Errorf("config: DeviceID must be 1..%d bytes: %w", maxDeviceID, ErrInvalid)
	case cfg.LastSeq < 0:
		return cfg, fmt.Errorf("config: LastSeq %d is negative: %w", cfg.LastSeq, ErrInvalid)
	case cfg.AckMode != AckAuto && cfg.AckMode != AckManual:
		return cfg, fmt.Errorf("config: unknown AckMode %d: %w", cfg.AckMode, ErrInvalid)
	}
	if cfg.Platform == "" {
		cfg.Platform = defaultPlatform
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = defaultReconnectMin
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = defaultReconnectMax
	}
	cfg.ReconnectMax = max(cfg.ReconnectMax, cfg.ReconnectMin)
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.ResyncInterval == 0 {
		cfg.ResyncInterval = defaultResync
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = defaultBuffer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	if cfg.Trace == nil && cfg.TracerProvider != nil {
		cfg.Trace = spanTrace
	}
	return cfg, nil
}

// spanTrace is the trace context of the span in ctx, in frame form; nil when none.
func spanTrace(ctx context.Context) *protocol.TraceContext {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil
	}
	return &protocol.TraceContext{TraceID: sc.TraceID(), SpanID: sc.SpanID(), Flags: byte(sc.TraceFlags())}
}

// attrTraffic and trafficChat mark the SDK's spans as chat for the server's sampler (the
// tracing package's AttrTraffic; the SDK does not import the server's packages).
const (
	attrTraffic = "bangbang.traffic"
	trafficChat = "chat"
)
