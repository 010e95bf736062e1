package main

import (
	"errors"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"

	"github.com/bangbang-im/bangbang/bench/latency"
)

// sender is one sending connection: its writer goroutine issues SENDs, paced and within
// a window of unanswered requests; its reader goroutine matches each answer to its send
// time by the request sequence. The reader owns the statistics.
type sender struct {
	run      *chatRun
	c        net.Conn
	name     string // prefix of client message ids
	to       string
	interval time.Duration // between SENDs; 0: as fast as the window allows
	phase    time.Duration // offset of the first SEND within the interval
	size     int

	slots chan struct{} // window tokens: taken by the writer, returned by the reader
	// sentAt holds send times by seq % window. The writer stores before sending and the
	// reader loads once the answer is in: the network orders them, atomics tell Go so.
	sentAt []atomic.Int64
	// Once the server answers RATE_LIMITED the sender paces itself for the rest of the run,
	// one SEND per limitGap, doubled on every further refusal: retry_after only says when
	// the next token comes, not the rate, and a sender that keeps being refused is
	// disconnected for flooding (the run would measure the limiter instead of the path).
	limitGap   atomic.Int64 // nanoseconds; 0 while never limited
	pauseUntil atomic.Int64 // run time before which the writer does not send

	// Owned by the reader.
	hist        latency.Histogram
	stored      int64 // SEND_ACKs
	storedInWin int64
	selfPushes  int64 // PUSH frames for the sender's other devices
	errs        map[common.ErrorCode]int
	err         error // why the reader stopped, unless asked to

	writeErr error // owned by the writer
	sent     int64
}

func newSender(run *chatRun, c net.Conn, name, to string, interval, phase time.Duration, window, size int) *sender {
	s := &sender{run: run, c: c, name: name, to: to, interval: interval, phase: phase, size: max(size, bodyHeader),
		slots: make(chan struct{}, window), sentAt: make([]atomic.Int64, window), errs: map[common.ErrorCode]int{}}
	for range window {
		s.slots <- struct{}{}
	}
	return s
}

// write sends until stop is closed. With an interval, each SEND is due at a fixed
// schedule and carries that due time, so time spent waiting for a window slot counts in
// its latency: a slow server cannot hide behind a slowed-down load (coordinated omission).
func (s *sender) write(stop <-chan struct{}) {
	var buf []byte
	body := make([]byte, s.size)
	seq := uint32(1) // 1 was AUTH
	window := uint32(len(s.sentAt))
	timer := time.NewTimer(0)
	defer timer.Stop()
	due := s.run.now() + int64(s.phase)
	for {
		if s.interval > 0 {
			timer.Reset(time.Duration(due - s.run.now()))
			select {
			case <-stop:
				return
			case <-timer.C:
			}
		}
		select {
		case <-stop:
			return
		case <-s.slots:
		}
		if wait := s.pauseUntil.Load() - s.run.now(); wait > 0 {
			timer.Reset(time.Duration(wait))
			select {
			case <-stop:
				return
			case <-timer.C:
			}
		}
		if gap := s.limitGap.Load(); gap > 0 {
			s.pauseUntil.Store(s.run.now() + gap)
		}
		seq++
		ts := due
		if s.interval > 0 {
			due += int64(s.interval)
		} else {
			ts = s.run.now()
		}
		s.sentAt[seq%window].Store(ts)
		s.run.body(body, ts)
		s.run.inflight.Add(1)
		buf = protocol.AppendMessage(buf[:0], protocol.OpSend, seq, nil, &frame.SendRequest{
			ClientMsgId: s.name + strconv.FormatUint(uint64(seq), 10), ToUser: s.to,
			Kind: int32(common.MessageKind_CHAT), ContentType: "application/octet-stream", Body: body,
		})
		if _, err := s.c.Write(buf); err != nil {
			s.run.inflight.Add(-1)
			s.writeErr = err
			return
		}
		s.sent++
	}
}

// read handles the answers until the connection fails or the run stops it.
func (s *sender) read() {
	r := protocol.NewReader(s.c, 0)
	window := uint32(len(s.sentAt))
	for {
		f, err := r.Next()
		if err != nil {
			if !(s.run.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded)) {
				s.err = err
			}
			return
		}
		switch f.Op {
		case protocol.OpSendAck, protocol.OpError:
			ts := s.sentAt[f.Seq%window].Load()
			if f.Op == protocol.OpSendAck {
				s.stored++
				s.run.stored.Add(1)
				if s.run.inWindow(ts) {
					s.storedInWin++
					s.hist.Record(time.Duration(s.run.now() - ts))
				}
			} else {
				s.countError(&f)
			}
			s.run.inflight.Add(-1)
			s.slots <- struct{}{}
		case protocol.OpPush:
			s.selfPushes++
		case protocol.OpKick:
			s.err = kicked(&f)
			return
		}
	}
}

func (s *sender) countError(f *protocol.Frame) {
	var se *ServerError
	if errors.As(serverError(f), &se) {
		s.errs[se.Code]++
		if se.Code == common.ErrorCode_RATE_LIMITED {
			gap := max(2*s.limitGap.Load(), int64(se.RetryAfter+time.Millisecond))
			s.limitGap.Store(gap)
			s.pauseUntil.Store(s.run.now() + gap)
		}
		return
	}
	s.errs[common.ErrorCode_UNKNOWN]++
}
