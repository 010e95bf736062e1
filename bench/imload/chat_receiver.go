package main

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"

	"github.com/bangbang-im/bangbang/bench/latency"
)

// receiver is one receiving connection; a single goroutine reads it and writes its acks.
// Acks are coalesced as the SDK's AckAuto does (one per ackBatch messages or after
// ackDelay): one ack covers everything up to a sequence, and each costs the server a write.
type receiver struct {
	run      *chatRun
	c        net.Conn
	ackDelay time.Duration // 0: ack only when stopping
	ackBatch int
	unacked  int

	hist           latency.Histogram
	delivered      int64 // this run's messages
	deliveredInWin int64
	foreign        int64 // pushed messages of other runs (or other senders)
	maxSeq, acked  int64
	acks           int64
	seq            uint32
	lastAck        time.Time
	buf            []byte
	err            error
}

func newReceiver(run *chatRun, c net.Conn, ackDelay time.Duration, ackBatch int) *receiver {
	return &receiver{run: run, c: c, seq: 1, ackDelay: ackDelay, ackBatch: ackBatch, lastAck: time.Now()}
}

// read handles pushes until the connection fails or the run stops it; on a stop it
// acknowledges what it holds first, as an app going to background would.
func (r *receiver) read() {
	rd := protocol.NewReader(r.c, 0)
	for {
		f, err := rd.Next()
		if err != nil {
			if r.run.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
				_ = r.c.SetWriteDeadline(time.Now().Add(time.Second))
				r.ack()
			} else {
				r.err = err
			}
			return
		}
		switch f.Op {
		case protocol.OpPush:
			if err := r.push(&f); err != nil {
				r.err = err
				return
			}
			if r.ackDelay > 0 && (r.unacked >= r.ackBatch || time.Since(r.lastAck) >= r.ackDelay) {
				r.ack()
			}
		case protocol.OpKick:
			r.err = kicked(&f)
			return
		case protocol.OpError:
			r.err = serverError(&f)
			return
		}
	}
}

func (r *receiver) push(f *protocol.Frame) error {
	var p frame.Push
	if err := protocol.DecodeBody(f.Body, &p); err != nil {
		return err
	}
	now := r.run.now()
	for _, m := range p.Messages {
		r.maxSeq = max(r.maxSeq, m.Seq)
		ts, ours := r.run.sentAt(m.Body)
		if !ours {
			r.foreign++
			continue
		}
		r.delivered++
		r.unacked++
		r.run.delivered.Add(1)
		if r.run.inWindow(ts) {
			r.deliveredInWin++
			r.hist.Record(time.Duration(now - ts))
		}
	}
	return nil
}

func (r *receiver) ack() {
	if r.maxSeq <= r.acked {
		return
	}
	r.seq++
	r.buf = protocol.AppendMessage(r.buf[:0], protocol.OpDeliverAck, r.seq, nil, &frame.DeliverAck{Seq: r.maxSeq})
	if _, err := r.c.Write(r.buf); err != nil {
		r.err = err
		return
	}
	r.acked, r.lastAck, r.unacked = r.maxSeq, time.Now(), 0
	r.acks++
}
