package gateway

import (
	"context"
	"errors"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// encode builds one whole frame; replies carry the request's seq, pushes 0.
func encode(op protocol.Op, seq uint32, body protocol.Body) []byte {
	return protocol.AppendMessage(nil, op, seq, nil, body)
}

func traceID(f *protocol.Frame) string {
	if f == nil || !f.HasTrace() {
		return ""
	}
	return f.Trace.TraceIDString()
}

// errorBody is the ERROR answering req (nil for a stream-level failure).
func errorBody(req *protocol.Frame, code common.ErrorCode, msg string) *frame.Error {
	return &frame.Error{Code: int32(code), Message: msg, TraceId: traceID(req)}
}

func seqOf(f *protocol.Frame) uint32 {
	if f == nil {
		return 0
	}
	return f.Seq
}

// reply queues a response to req. A full queue closes the session; the caller learns
// it through the next open check, so the error needs no handling here. A body over the
// frame limit is never sent (clients reject such frames): the client gets INTERNAL.
func (s *session) reply(req *protocol.Frame, op protocol.Op, body protocol.Body) {
	s.replyOn(s.cur, req, op, body)
}

// replyOn is reply for the request r, which the reader may no longer be handling (a
// pipelined SEND).
func (s *session) replyOn(r *request, req *protocol.Frame, op protocol.Op, body protocol.Body) {
	if n := body.BLength(); n > s.g.cfg.MaxBody {
		s.g.log.Error("reply over the frame limit not sent", append(s.attrs(), "op", op.String(), "bytes", n)...)
		e := errorBody(req, common.ErrorCode_INTERNAL, "internal error")
		r.note(e)
		body = e
		op = protocol.OpError
	}
	_ = s.enqueue(encode(op, req.Seq, body))
}

func (s *session) replyError(req *protocol.Frame, e *frame.Error) {
	s.replyErrorOn(s.cur, req, e)
}

func (s *session) replyErrorOn(r *request, req *protocol.Frame, e *frame.Error) {
	r.note(e)
	s.replyOn(r, req, protocol.OpError, e)
}

// fatal answers req (nil when the stream itself is broken) with ERROR and closes.
func (s *session) fatal(req *protocol.Frame, e *frame.Error, reason string) {
	s.noteError(req, e)
	s.finish(encode(protocol.OpError, seqOf(req), e), reason)
}

// badRequest answers a body that did not decode; the frame boundary held, so the
// connection stays usable.
func (s *session) badRequest(req *protocol.Frame, err error) {
	msg := "bad request"
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Message != "" {
		msg = pe.Message
	}
	s.replyError(req, errorBody(req, common.ErrorCode_BAD_REQUEST, msg))
}

// failure turns a logic error into the ERROR the client may see: an *common.IMError keeps
// its code and message. Anything else did not come from logic's answer but from reaching
// it (logic restarting, unreachable, too slow): the only dependency the gateway calls, so
// the client gets UNAVAILABLE, temporary, and retries with backoff; the detail is logged,
// never sent.
func (s *session) failure(ctx context.Context, req *protocol.Frame, call string, err error) *frame.Error {
	var ime *common.IMError
	if errors.As(err, &ime) {
		s.g.log.DebugContext(ctx, "logic refused", append(s.attrs(), "call", call, "code", ime.Code, "err", ime.Message)...)
		return &frame.Error{
			Code:         ime.Code,
			Message:      ime.Message,
			Temporary:    ime.Temporary,
			RetryAfterMs: ime.RetryAfterMs,
			TraceId:      traceID(req),
		}
	}
	s.g.log.WarnContext(ctx, "logic call failed", append(s.attrs(), "call", call, "err", err)...)
	e := errorBody(req, common.ErrorCode_UNAVAILABLE, "service unavailable")
	e.Temporary = true
	return e
}
