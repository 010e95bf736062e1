package logic

import (
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// Pushes that queue while a shard's Deliver call is under way leave together: one Deliver
// call per node with a delivery per push, in the order they were stored, each reaching
// only its own user's connections.
func TestQueuedPushesShareOneDeliverCall(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.PushShards = 1 })
	f.connect(t, "alice", "phone", "a1")
	f.connect(t, "bob", "phone", "b1")
	f.connect(t, "carol", "phone", "c1")

	f.gw.mu.Lock()
	gate := make(chan struct{})
	f.gw.gate, f.gw.entered = gate, make(chan struct{}, 16)
	f.gw.mu.Unlock()
	f.send(t, "alice", "phone", "bob", "m1", "1")
	<-f.gw.entered // the shard is in its Deliver call for "1"
	f.send(t, "alice", "phone", "bob", "m2", "2")
	f.send(t, "alice", "phone", "carol", "m3", "3")
	f.send(t, "alice", "phone", "bob", "m4", "4")
	f.gw.mu.Lock()
	f.gw.gate = nil
	f.gw.mu.Unlock()
	close(gate)

	bob := f.gw.pushes(t, "b1", 3)
	carol := f.gw.pushes(t, "c1", 1)
	text := func(p *frame.Push) string { return string(p.Messages[0].Body) }
	if got := text(bob[0]) + text(bob[1]) + text(bob[2]); got != "124" || text(carol[0]) != "3" {
		t.Fatalf("bob got %q, carol %q: want 1,2,4 and 3", got, text(carol[0]))
	}
	f.gw.mu.Lock()
	defer f.gw.mu.Unlock()
	if len(f.gw.calls) != 2 {
		t.Fatalf("%d Deliver calls, want 2 (the first push, then the three queued behind it)", len(f.gw.calls))
	}
	var order []string
	for _, d := range f.gw.calls[1] {
		var p frame.Push
		if err := protocol.DecodeBody(d.Body, &p); err != nil {
			t.Fatal(err)
		}
		order = append(order, text(&p)+"→"+d.ConnIds[0])
		if len(d.ConnIds) != 1 {
			t.Errorf("delivery of %q to %v: want its user's one connection", text(&p), d.ConnIds)
		}
	}
	if got := order; len(got) != 3 || got[0] != "2→b1" || got[1] != "3→c1" || got[2] != "4→b1" {
		t.Errorf("second call's deliveries %v, want [2→b1 3→c1 4→b1]", got)
	}
}

// A batch whose Deliver call fails is retried push by push, as single pushes are: each
// user's newest failed push reaches it once the node answers again (its device syncs the
// older ones from the gap), whichever batch it failed in.
func TestFailedBatchIsRetriedPerPush(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.PushShards = 1 })
	f.connect(t, "alice", "phone", "a1")
	f.connect(t, "bob", "phone", "b1")
	f.connect(t, "carol", "phone", "c1")

	f.gw.mu.Lock()
	gate := make(chan struct{})
	f.gw.gate, f.gw.entered = gate, make(chan struct{}, 16)
	f.gw.mu.Unlock()
	f.send(t, "alice", "phone", "bob", "m1", "1")
	<-f.gw.entered
	f.send(t, "alice", "phone", "bob", "m2", "2")
	f.send(t, "alice", "phone", "carol", "m3", "3")
	f.send(t, "alice", "phone", "bob", "m4", "4")
	f.gw.mu.Lock()
	f.gw.gate, f.gw.down = nil, true // "1" fails too: the node is down when the call lands
	f.gw.mu.Unlock()
	close(gate)
	// …and so does the batch of the three behind it: two refused calls.
	deadline := time.After(5 * time.Second)
	for {
		f.gw.mu.Lock()
		n := f.gw.refused
		f.gw.mu.Unlock()
		if n >= 2 {
			break
		}
		select {
		case <-f.gw.changed:
		case <-deadline:
			t.Fatalf("%d refused Deliver calls after 5s, want the first push's and the batch's", n)
		}
	}
	f.gw.setDown(false)

	carol := f.gw.pushes(t, "c1", 1)
	bob := f.gw.pushes(t, "b1", 1)
	text := func(p *frame.Push) string { return string(p.Messages[0].Body) }
	if text(carol[0]) != "3" || text(bob[len(bob)-1]) != "4" {
		t.Fatalf("carol got %q, bob's last %q: want 3 and 4 (each user's newest)", text(carol[0]), text(bob[len(bob)-1]))
	}
}
