package gateway

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	"github.com/bangbang-im/bangbang/tracing"
)

// The push side: gen/gateway.GatewayService, called by logic in-process or through Kitex.
// None of these blocks on a connection: frames are queued and written by the flush workers.

// Deliver queues each delivery's frame (header added here, body as logic encoded it) on
// each of its connections. Connections not on this node, or not authenticated, are
// reported missing; those whose send queue overflowed, dropped.
//
// Inside a trace (the push of a traced send), the call has a span counting what became of
// each connection, and the frames carry the trace context, so the recipient's bug report
// names the sender's trace too.
func (g *Gateway) Deliver(ctx context.Context, req *gatewaygen.DeliverRequest) (*gatewaygen.DeliverResponse, error) {
	ctx, span := g.pushTracer.Start(ctx, "gateway.Deliver", trace.WithAttributes(attribute.String("bangbang.node", g.cfg.Node)))
	defer span.End()
	var pending int
	resp, err := g.deliver(ctx, req, &pending)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return nil, err
	}
	g.stats.pushMissing.Add(uint64(len(resp.Missing)))
	g.stats.pushDropped.Add(uint64(len(resp.Dropped)))
	g.stats.pushPendingAuth.Add(uint64(pending))
	if span.IsRecording() {
		span.SetAttributes(
			attribute.Int("bangbang.push.missing", len(resp.Missing)),
			attribute.Int("bangbang.push.dropped", len(resp.Dropped)),
			attribute.Int("bangbang.push.pending_auth", pending))
	}
	return resp, nil
}

func (g *Gateway) deliver(ctx context.Context, req *gatewaygen.DeliverRequest, pending *int) (*gatewaygen.DeliverResponse, error) {
	resp := &gatewaygen.DeliverResponse{}
	tc := tracing.FrameTrace(ctx)
	for i, d := range req.GetDeliveries() {
		op := protocol.Op(d.GetOp())
		if d.GetOp() < 0 || d.GetOp() > 255 || !op.Known() || op.ClientRequest() {
			return nil, imError(common.ErrorCode_BAD_REQUEST, fmt.Sprintf("delivery %d: op %d is not a server push", i, d.GetOp()))
		}
		if len(d.GetBody()) > g.cfg.MaxBody {
			return nil, imError(common.ErrorCode_BAD_REQUEST, fmt.Sprintf("delivery %d: body of %d bytes over %d", i, len(d.GetBody()), g.cfg.MaxBody))
		}
		// One encoding shared by every connection: queued frames are never modified.
		f := &protocol.Frame{Op: op, Body: d.GetBody()}
		if tc != nil {
			f.Flags, f.Trace = protocol.FlagTrace, *tc
		}
		b := protocol.AppendFrame(nil, f)
		for _, id := range d.GetConnIds() {
			s := g.table.get(id)
			if s == nil {
				resp.Missing = append(resp.Missing, id)
				continue
			}
			if s.ident.Load() == nil {
				// Logic has registered the route but AUTH_OK is not out yet. Reporting the
				// connection missing would make logic delete its fresh route; skipping the
				// frame loses nothing, because the message is already stored and a client
				// syncs after AUTH_OK, which is sent after this moment.
				*pending++
				continue
			}
			switch err := s.enqueue(b); {
			case err == nil:
				g.stats.pushDelivered.Add(1)
			case errors.Is(err, ErrSendQueueFull):
				resp.Dropped = append(resp.Dropped, id)
			case err != nil:
				resp.Missing = append(resp.Missing, id)
			}
		}
	}
	return resp, nil
}

// Kick sends KICK{reason, message} to one connection and closes it; with a token id,
// only if the connection logged in with that token.
func (g *Gateway) Kick(ctx context.Context, req *gatewaygen.KickRequest) (*gatewaygen.KickResponse, error) {
	s := g.table.get(req.GetConnId())
	if s == nil {
		return &gatewaygen.KickResponse{Found: false}, nil
	}
	if t := req.GetTokenId(); t != "" {
		// A logout ends the sessions of that one token, not the user's other devices.
		if id := s.ident.Load(); id == nil || id.tokenID != t {
			return &gatewaygen.KickResponse{Found: false}, nil
		}
	}
	g.log.InfoContext(ctx, "kicking connection", append(s.attrs(), "reason", frame.KickReason(req.GetReason()).String())...)
	found := s.finish(encode(protocol.OpKick, 0, &frame.Kick{Reason: req.GetReason(), Message: req.GetMessage()}), "kicked")
	return &gatewaygen.KickResponse{Found: found}, nil
}

// Drain tells every connection to reconnect (to another node) after a jittered delay in
// [0, max_delay_ms) and closes it once told; new logins are refused from now on. It
// returns without waiting for the connections to close: Shutdown does that.
func (g *Gateway) Drain(ctx context.Context, req *gatewaygen.DrainRequest) (*gatewaygen.DrainResponse, error) {
	maxDelay := time.Duration(req.GetMaxDelayMs()) * time.Millisecond
	if maxDelay <= 0 {
		maxDelay = g.cfg.DrainMaxDelay
	}
	n := g.drain(maxDelay)
	return &gatewaygen.DrainResponse{Connections: int32(n)}, nil
}

func (g *Gateway) drain(maxDelay time.Duration) int {
	g.draining.Store(true)
	n := 0
	for _, s := range g.table.snapshot() {
		if s.finish(g.reconnectFrame(maxDelay), "draining") {
			n++
		}
	}
	g.log.Info("gateway draining", "connections", n, "max_delay", maxDelay)
	return n
}

// reconnectFrame is a RECONNECT with a delay jittered in [0, maxDelay): the jitter spreads
// the reconnect storm of a drained node over maxDelay instead of one instant.
func (g *Gateway) reconnectFrame(maxDelay time.Duration) []byte {
	after := rand.Int64N(max(int64(maxDelay/time.Millisecond), 1))
	return encode(protocol.OpReconnect, 0, &frame.Reconnect{AfterMs: int32(after), Reason: "gateway draining"})
}

func imError(code common.ErrorCode, msg string) *common.IMError {
	return &common.IMError{Code: int32(code), Message: msg}
}
