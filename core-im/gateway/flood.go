package gateway

import (
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// floodMessage names the close of a flooding connection in its ERROR (seq 0).
const floodMessage = "frame flood: closing"

// refuse answers a frame the rate limit refused and reports whether the reader goes on.
// The refusal is the server's own answer, so it never counts as the client being slow: a
// refusal that finds the send queue full closes the connection as a flood.
func (s *session) refuse(req *protocol.Frame, e *frame.Error) bool {
	s.noteError(req, e)
	s.mu.Lock()
	full := s.state == stateOpen && len(s.queue) >= s.g.cfg.SendQueue
	s.mu.Unlock()
	if full {
		s.flood(e)
		return false
	}
	_ = s.enqueue(encode(protocol.OpError, req.Seq, e))
	return s.open()
}

// flood closes a connection that keeps sending while refused: ERROR RATE_LIMITED with seq
// 0 (it answers no one request) after whatever is queued, or in place of the queue when the
// queue is full. Counted in floods, never in the slow consumers.
func (s *session) flood(refusal *frame.Error) {
	g := s.g
	e := &frame.Error{Code: int32(common.ErrorCode_RATE_LIMITED), Message: floodMessage,
		Temporary: true, RetryAfterMs: refusal.RetryAfterMs}
	b := encode(protocol.OpError, 0, e)
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.state = stateClosing
	s.reason = "frame flood"
	full := len(s.queue) >= g.cfg.SendQueue
	if full {
		clear(s.queue)
		s.queue = s.queue[:0]
	}
	s.queue = append(s.queue, b)
	s.scheduleLocked()
	g.stats.floods.Add(1)
	g.log.Warn("frame flood: closing connection", s.attrs()...)
	// A write in progress finishes (or fails at its deadline) before the ERROR goes out,
	// then the connection closes: the client learns why even when its queue was full.
}
