package gateway

import (
	"context"
	"math"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// logicTimeout bounds one logic call made for a client request.
const logicTimeout = 10 * time.Second

// A connection owing more turns than its burst or two seconds of its rate, whichever is
// more (frames refused and waiting for their retry_after), is not waiting as told: it is
// flooding and is closed. The two seconds leave room for a client with a window of frames
// in flight that it sent before the first refusal could reach it, when the burst is
// small. With the defaults (50/s, burst 100) the bound is 100, which keeps the refusals
// queued for a flood (with the answers to the burst it was let through) under the send
// queue, so a flood is never mistaken for a slow consumer; a refusal that still finds the
// queue full closes as a flood too.
func (c Config) floodTurns() int { return max(c.FrameBurst, int(2*c.FrameRate)) }

// handle processes one frame from the client and reports whether the reader should go on.
// Frames of one session come here one at a time, in order. f.Body may alias the reader's
// buffer: everything kept past the call is decoded (copied) first.
func (s *session) handle(f *protocol.Frame) bool {
	if !s.open() {
		return false
	}
	g := s.g
	g.stats.framesIn.Add(1)
	now := g.now()
	s.lastSeen.Store(now)

	if ok, wait, owed := s.limit.allow(now, g.cfg.FrameRate, g.cfg.FrameBurst); !ok {
		g.stats.rateLimited.Add(1)
		e := errorBody(f, common.ErrorCode_RATE_LIMITED, "too many frames")
		e.Temporary, e.RetryAfterMs = true, int32(min(wait/time.Millisecond, math.MaxInt32))
		if owed > g.cfg.floodTurns() {
			s.flood(e)
			return false
		}
		return s.refuse(f, e)
	}

	ctx, r := s.begin(f)
	s.cur = r
	defer func() {
		if s.cur != nil { // not handed over to the send pipe
			s.cur = nil
			s.end(r)
		}
	}()
	if s.ident.Load() == nil {
		if f.Op != protocol.OpAuth {
			s.fatal(f, errorBody(f, common.ErrorCode_UNAUTHENTICATED, "the first frame must be AUTH"), "frame before auth")
			return false
		}
		return s.auth(ctx, f)
	}

	switch f.Op {
	case protocol.OpAuth:
		return s.reauth(ctx, f)
	case protocol.OpHeartbeat:
		var hb frame.Heartbeat
		if err := protocol.DecodeBody(f.Body, &hb); err != nil {
			s.badRequest(f, err)
			break
		}
		s.reply(f, protocol.OpHeartbeatAck, &frame.HeartbeatAck{ServerTimeMs: time.Now().UnixMilli()})
	case protocol.OpSend:
		s.send(ctx, f)
	case protocol.OpSync:
		s.sync(ctx, f)
	case protocol.OpDeliverAck:
		s.ack(ctx, f)
	case protocol.OpRead:
		s.read(ctx, f)
	default:
		if f.Op.Known() {
			s.replyError(f, errorBody(f, common.ErrorCode_BAD_REQUEST, f.Op.String()+" is sent by the server only"))
		} else {
			s.replyError(f, errorBody(f, common.ErrorCode_UNKNOWN_OPERATION, "unknown operation "+f.Op.String()))
		}
	}
	return s.open()
}

// protocolError handles a stream that cannot be read on: ERROR with the decoder's code,
// then close.
func (s *session) protocolError(pe *protocol.Error) {
	s.g.log.Debug("bad frame: closing connection", append(s.attrs(), "err", pe)...)
	s.fatal(nil, &frame.Error{Code: int32(pe.Code), Message: pe.Message}, "bad frame")
}

// call returns the context of one logic call made for the client's request ctx (from
// begin: cancelled when the gateway shuts down): bounded by logicTimeout.
func (s *session) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, logicTimeout)
}
