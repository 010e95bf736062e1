package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// bodyHeader is what each chat body starts with: the run id, so a receiver counts only
// this run's messages, and the send time, so it can time delivery without a lookup.
const bodyHeader = 16

// chatRun is the state senders and receivers share. Times are nanoseconds since epoch on
// the monotonic clock: senders and receivers live in this process, so one clock serves.
type chatRun struct {
	epoch    time.Time
	id       [8]byte
	from, to int64 // the measured window: messages sent in it count
	stopping atomic.Bool

	inflight  atomic.Int64 // SENDs not yet answered
	stored    atomic.Int64 // SEND_ACKs, all run long
	delivered atomic.Int64 // this run's messages received by receivers
}

func newChatRun(warmup, duration time.Duration) *chatRun {
	r := &chatRun{epoch: time.Now(), from: int64(warmup), to: int64(warmup + duration)}
	_, _ = rand.Read(r.id[:])
	return r
}

// name is the run id as it appears in client message ids.
func (r *chatRun) name() string { return hex.EncodeToString(r.id[:4]) }

func (r *chatRun) now() int64 { return int64(time.Since(r.epoch)) }

func (r *chatRun) inWindow(ts int64) bool { return ts >= r.from && ts < r.to }

// body fills b (at least bodyHeader long) for a message sent at ts.
func (r *chatRun) body(b []byte, ts int64) {
	copy(b, r.id[:])
	binary.BigEndian.PutUint64(b[8:], uint64(ts))
}

// sentAt reads a body written by body; ok is false for another run's message.
func (r *chatRun) sentAt(b []byte) (ts int64, ok bool) {
	if len(b) < bodyHeader || [8]byte(b[:8]) != r.id {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b[8:])), true
}

// newRunID names a run in device ids and client message ids, so runs against the same
// server never collide.
func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
