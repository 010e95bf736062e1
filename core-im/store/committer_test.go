package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scriptedWriter is a batchWriter for testing the committer alone: it fails
// any transaction holding a request for conversation "poison", and can hold
// its first call until released.
type scriptedWriter struct {
	hold chan struct{} // closed to let the first write proceed; nil = never hold

	mu      sync.Mutex
	batches []int // size of each write (appends)
	marks   []int // marks of each write
	entered chan struct{}
}

var errPoison = errors.New("poisoned transaction")

func (w *scriptedWriter) writeBatch(ctx context.Context, reqs []*appendReq, marks []*markReq) ([]Appended, []markResult, error) {
	w.mu.Lock()
	w.batches = append(w.batches, len(reqs))
	w.marks = append(w.marks, len(marks))
	first := len(w.batches) == 1
	w.mu.Unlock()
	if first && w.hold != nil {
		close(w.entered)
		<-w.hold
	}
	out := make([]Appended, len(reqs))
	for i, r := range reqs {
		if r.msg.ConvID == "poison" {
			return nil, nil, errPoison
		}
		out[i] = Appended{
			Message: Message{ID: r.id, ConvID: r.msg.ConvID, ClientMsgID: r.msg.ClientMsgID},
			Inbox:   []InboxEntry{{UserID: r.msg.Recipients[0], Seq: int64(i + 1)}},
		}
	}
	mres := make([]markResult, len(marks))
	for i, m := range marks {
		if m.key == "poison" {
			return nil, nil, errPoison
		}
		mres[i].seq = m.seq
	}
	return out, mres, nil
}

func (w *scriptedWriter) sizes() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.batches)
}

func newHeldCommitter(t *testing.T, opt Options) (*committer, *scriptedWriter, func()) {
	t.Helper()
	w := &scriptedWriter{hold: make(chan struct{}), entered: make(chan struct{})}
	c := newCommitter(w, "test", opt.withDefaults())
	var once sync.Once
	release := func() { once.Do(func() { close(w.hold) }) }
	t.Cleanup(func() { release(); c.close() })
	return c, w, release
}

func queuedReq(t *testing.T, conv, clientMsgID string) *appendReq {
	t.Helper()
	m := chat("m1", "c1", clientMsgID)
	m.ConvID = conv
	m, id, err := prepareMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	return &appendReq{ctx: t.Context(), id: id, msg: m, done: make(chan appendResult, 1)}
}

// callAsync runs c.append for r and waits for it before the test ends.
func callAsync(t *testing.T, c *committer, r *appendReq) <-chan appendOutcome {
	t.Helper()
	out := make(chan appendOutcome, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a, err := c.append(r.ctx, r)
		out <- appendOutcome{a, err}
	}()
	t.Cleanup(func() { <-done })
	return out
}

// waitQueued blocks until n requests are queued.
func waitQueued(t *testing.T, c *committer, n int) {
	t.Helper()
	waitFor(t, "requests to queue", func() bool { p, _ := c.queueStats(); return p == n })
}

func TestCommitterBatchesWhatQueuedDuringACommit(t *testing.T) {
	c, w, release := newHeldCommitter(t, Options{BatchMax: 3})
	first := callAsync(t, c, queuedReq(t, "a", ""))
	<-w.entered
	var calls []<-chan appendOutcome
	for range 7 {
		calls = append(calls, callAsync(t, c, queuedReq(t, "a", "")))
	}
	waitQueued(t, c, 7)
	release()
	for _, ch := range append(calls, first) {
		if out := <-ch; out.err != nil {
			t.Fatal(out.err)
		}
	}
	if got, want := w.sizes(), []int{1, 3, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("batch sizes %v, want %v", got, want)
	}
}

func TestCommitterFallsBackToSingleWrites(t *testing.T) {
	c, w, release := newHeldCommitter(t, Options{})
	first := callAsync(t, c, queuedReq(t, "a", ""))
	<-w.entered
	good1 := callAsync(t, c, queuedReq(t, "a", ""))
	waitQueued(t, c, 1)
	bad := callAsync(t, c, queuedReq(t, "poison", ""))
	waitQueued(t, c, 2)
	good2 := callAsync(t, c, queuedReq(t, "b", ""))
	waitQueued(t, c, 3)
	release()
	if out := <-first; out.err != nil {
		t.Fatal(out.err)
	}
	for _, ch := range []<-chan appendOutcome{good1, good2} {
		if out := <-ch; out.err != nil {
			t.Errorf("a good request failed with the poisoned batch: %v", out.err)
		}
	}
	if out := <-bad; !errors.Is(out.err, errPoison) {
		t.Errorf("poisoned request: %v, want errPoison", out.err)
	}
	if got, want := w.sizes(), []int{1, 3, 1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("writes %v, want %v (the batch, then each request alone)", got, want)
	}
}

func TestCommitterAnswersSameKeyAsDuplicate(t *testing.T) {
	c, w, release := newHeldCommitter(t, Options{})
	first := callAsync(t, c, queuedReq(t, "a", ""))
	<-w.entered
	var calls []<-chan appendOutcome
	for i := range 3 {
		calls = append(calls, callAsync(t, c, queuedReq(t, "a", "same")))
		waitQueued(t, c, i+1)
	}
	release()
	<-first
	var outs []appendOutcome
	for _, ch := range calls {
		outs = append(outs, <-ch)
	}
	for i, out := range outs {
		if out.err != nil || out.a.Message.ID != outs[0].a.Message.ID || out.a.Duplicate != (i > 0) {
			t.Errorf("answer %d = %+v, %v; want the first message, duplicate=%v", i, out.a, out.err, i > 0)
		}
	}
	// Each caller owns its answer.
	outs[1].a.Inbox[0].Seq = 99
	if outs[2].a.Inbox[0].Seq == 99 || outs[0].a.Inbox[0].Seq == 99 {
		t.Error("duplicate answers share their inbox slice")
	}
	if got, want := w.sizes(), []int{1, 1}; !slices.Equal(got, want) {
		t.Errorf("writes %v, want %v (one request written for the key)", got, want)
	}
}

func TestCommitterLingersUntilBatchFull(t *testing.T) {
	w := &scriptedWriter{}
	c := newCommitter(w, "test", Options{BatchMax: 4, BatchWait: time.Hour}.withDefaults())
	defer c.close()
	var calls []<-chan appendOutcome
	for range 4 {
		calls = append(calls, callAsync(t, c, queuedReq(t, "a", "")))
	}
	for _, ch := range calls {
		if out := <-ch; out.err != nil {
			t.Fatal(out.err)
		}
	}
	if got, want := w.sizes(), []int{4}; !slices.Equal(got, want) {
		t.Errorf("writes %v, want %v", got, want)
	}
}

func TestCommitterCloseDuringLinger(t *testing.T) {
	w := &scriptedWriter{}
	c := newCommitter(w, "test", Options{BatchMax: 4, BatchWait: time.Hour}.withDefaults())
	call := callAsync(t, c, queuedReq(t, "a", ""))
	waitQueued(t, c, 1)
	c.close()
	if out := <-call; !errors.Is(out.err, ErrClosed) {
		t.Errorf("request queued at close: %v, want ErrClosed", out.err)
	}
	if _, err := c.append(t.Context(), queuedReq(t, "a", "")); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v, want ErrClosed", err)
	}
	if got := w.sizes(); len(got) != 0 {
		t.Errorf("writes %v after close, want none", got)
	}
}

func TestCommitterWritesMarksWithAppends(t *testing.T) {
	c, w, release := newHeldCommitter(t, Options{})
	first := callAsync(t, c, queuedReq(t, "a", ""))
	<-w.entered
	app := callAsync(t, c, queuedReq(t, "a", ""))
	waitQueued(t, c, 1)
	var closed atomic.Bool
	marks := make(chan error, 3)
	for i, key := range []string{"phone", "poison", "tablet"} {
		go func() {
			seq, err := c.mark(t.Context(), &closed, &markReq{kind: markAck, user: "u", key: key, seq: int64(i)})
			if err == nil && seq != int64(i) {
				err = fmt.Errorf("mark %d answered %d", i, seq)
			}
			if key == "poison" {
				if !errors.Is(err, errPoison) {
					err = fmt.Errorf("poisoned mark: %v, want errPoison", err)
				} else {
					err = nil
				}
			}
			marks <- err
		}()
		waitQueued(t, c, 2+i)
	}
	release()
	for _, ch := range []<-chan appendOutcome{first, app} {
		if out := <-ch; out.err != nil {
			t.Fatal(out.err)
		}
	}
	for range 3 {
		if err := <-marks; err != nil {
			t.Error(err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// The held write, then the append and three marks together; that failed on the poison,
	// so each request again alone.
	if want := []int{1, 1, 1, 0, 0, 0}; !slices.Equal(w.batches, want) {
		t.Errorf("appends per write %v, want %v", w.batches, want)
	}
	if want := []int{0, 3, 0, 1, 1, 1}; !slices.Equal(w.marks, want) {
		t.Errorf("marks per write %v, want %v", w.marks, want)
	}
}
