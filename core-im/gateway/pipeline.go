package gateway

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// A connection's SENDs are pipelined. The reader hands each SEND to the session's send
// pipe and reads on; one logic call at a time carries every SEND read while the previous
// call ran (SendBatch, or Send for one), so a connection's messages are stored in the
// order it sent them and its SEND_ACKs (or ERRORs) come back in that order. Other
// requests are answered as the reader handles them and may overtake a SEND_ACK. At most
// Config.SendWindow SENDs are in the pipe: past that the reader stops reading the
// connection until a call returns, and the client's frames wait in the socket.

// pendingSend is a SEND handed to the pipe.
type pendingSend struct {
	frame protocol.Frame // the SEND's seq, flags and trace; no body
	req   *logicgen.SendRequest
	ctx   context.Context // the request's context (its span)
	r     *request        // nil when not observed
}

// sendPipe is a session's SENDs waiting for, or carried by, the logic call in flight. It
// exists from a session's first SEND on.
type sendPipe struct {
	mu      sync.Mutex
	space   sync.Cond // signalled when a call returns
	queue   []pendingSend
	n       int  // SENDs queued or in the call in flight
	running bool // a goroutine is calling logic
}

// pipeSend hands a decoded SEND to the pipe, waiting while the window is full. The pipe
// owns the request from here: it answers it and ends it.
func (s *session) pipeSend(ctx context.Context, f *protocol.Frame, req *logicgen.SendRequest) {
	p := s.pipe
	if p == nil {
		p = &sendPipe{}
		p.space.L = &p.mu
		s.pipe = p
	}
	ps := pendingSend{frame: protocol.Frame{Op: f.Op, Seq: f.Seq, Flags: f.Flags, Trace: f.Trace}, req: req, ctx: ctx, r: s.cur}
	s.cur = nil // handed over: the reader no longer ends it
	p.mu.Lock()
	for p.n >= s.g.cfg.SendWindow {
		p.space.Wait()
	}
	p.queue = append(p.queue, ps)
	p.n++
	start := !p.running
	p.running = true
	p.mu.Unlock()
	if start {
		go s.runSends(p)
	}
}

// runSends makes the pipe's logic calls until nothing is queued. A panic in a call (an
// in-process logic's) closes the session, as it would in the reader, and releases the
// reader should it be waiting for room.
func (s *session) runSends(p *sendPipe) {
	defer func() {
		if r := recover(); r != nil {
			s.g.log.Error("panic sending for connection", append(s.attrs(), "panic", r)...)
			s.shutdown("panic")
			p.mu.Lock()
			p.queue, p.n, p.running = nil, 0, false
			p.space.Broadcast()
			p.mu.Unlock()
		}
	}()
	for {
		p.mu.Lock()
		batch := p.queue
		p.queue = nil
		if len(batch) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		s.sendAll(batch)
		p.mu.Lock()
		p.n -= len(batch)
		p.space.Broadcast()
		p.mu.Unlock()
	}
}

// sendAll stores batch with one logic call and answers each SEND. A closed session's
// SENDs are not sent: the client, which got no ack, sends them again.
func (s *session) sendAll(batch []pendingSend) {
	defer func() {
		for i := range batch {
			s.end(batch[i].r)
		}
	}()
	if !s.open() {
		return
	}
	first := &batch[0]
	call, cancel := s.call(first.ctx)
	defer cancel()
	if len(batch) == 1 {
		resp, err := s.g.logic.Send(call, first.req)
		s.answerSend(first, resp, err)
		return
	}
	reqs := make([]*logicgen.SendRequest, len(batch))
	for i := range batch {
		reqs[i] = batch[i].req
		// The call carries the first SEND's trace: the others' spans name it.
		if r := batch[i].r; i > 0 && r != nil && r.span != nil && first.frame.HasTrace() {
			r.span.SetAttributes(attribute.String("bangbang.im.batch_trace_id", first.frame.Trace.TraceIDString()))
		}
	}
	resp, err := s.g.logic.SendBatch(call, &logicgen.SendBatchRequest{Sends: reqs})
	if err == nil && len(resp.GetResults()) != len(batch) {
		s.g.log.Error("logic answered a send batch with the wrong count", append(s.attrs(), "sends", len(batch), "results", len(resp.GetResults()))...)
		err = &common.IMError{Code: int32(common.ErrorCode_INTERNAL), Message: "internal error"}
	}
	for i := range batch {
		if err != nil {
			s.answerSend(&batch[i], nil, err)
			continue
		}
		switch r := resp.Results[i]; {
		case r == nil:
			s.answerSend(&batch[i], nil, nil) // no answer: INTERNAL
		case r.Err != nil:
			s.answerSend(&batch[i], nil, r.Err)
		default:
			s.answerSend(&batch[i], r.Ok, nil)
		}
	}
}

// answerSend answers one SEND: its SEND_ACK, or the ERROR its failure is for the client.
func (s *session) answerSend(ps *pendingSend, resp *logicgen.SendResponse, err error) {
	f := &ps.frame
	if err == nil && resp == nil {
		err = &common.IMError{Code: int32(common.ErrorCode_INTERNAL), Message: "internal error"}
	}
	// The request is accounted (span ended, metric observed) before its answer is queued:
	// a client that has read the answer finds it counted.
	if err != nil {
		e := s.failure(ps.ctx, f, "send", err)
		ps.r.note(e)
		s.end(ps.r)
		ps.r = nil
		s.replyOn(nil, f, protocol.OpError, e)
		return
	}
	s.end(ps.r)
	ps.r = nil
	s.replyOn(nil, f, protocol.OpSendAck, &frame.SendAck{
		ClientMsgId: ps.req.ClientMsgId,
		MsgId:       resp.GetMsgId(),
		ConvId:      resp.GetConvId(),
		ConvSeq:     resp.GetConvSeq(),
		Seq:         resp.GetSeq(),
		SentAtMs:    resp.GetSentAtMs(),
		Duplicate:   resp.GetDuplicate(),
		TraceId:     traceID(f),
	})
}
