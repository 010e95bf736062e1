package logic

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// recorder stands in for gateway nodes: it records what logic asks them to do. The store
// and route table under test are the real ones.
type recorder struct {
	mu      sync.Mutex
	frames  map[string][]delivered // by conn id
	kicked  []string
	missing map[string]bool // conns the node reports gone
	down    bool            // the node does not answer: Deliver fails
	changed chan struct{}
	calls   [][]*gatewaygen.Delivery // every Deliver call's deliveries, in call order
	refused int                      // Deliver calls failed while down
	// gate, when set, holds every Deliver call until it is closed; entered hears of each
	// call that reached it.
	gate    chan struct{}
	entered chan struct{}
}

// setDown makes the node unreachable (true) or reachable again.
func (r *recorder) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

var errNodeDown = errors.New("gateway node unreachable")

type delivered struct {
	op   protocol.Op
	body []byte
}

func newRecorder() *recorder {
	return &recorder{frames: map[string][]delivered{}, missing: map[string]bool{}, changed: make(chan struct{}, 1024)}
}

func (r *recorder) Gateway(string) (gatewaygen.GatewayService, error) { return r, nil }

func (r *recorder) Deliver(_ context.Context, req *gatewaygen.DeliverRequest) (*gatewaygen.DeliverResponse, error) {
	r.mu.Lock()
	gate, entered := r.gate, r.entered
	r.mu.Unlock()
	if gate != nil {
		entered <- struct{}{}
		<-gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, req.Deliveries)
	if r.down {
		r.refused++
		r.changed <- struct{}{}
		return nil, errNodeDown
	}
	resp := &gatewaygen.DeliverResponse{}
	for _, d := range req.Deliveries {
		for _, c := range d.ConnIds {
			if r.missing[c] {
				resp.Missing = append(resp.Missing, c)
				continue
			}
			r.frames[c] = append(r.frames[c], delivered{protocol.Op(d.Op), d.Body})
		}
	}
	r.changed <- struct{}{}
	return resp, nil
}

func (r *recorder) Kick(_ context.Context, req *gatewaygen.KickRequest) (*gatewaygen.KickResponse, error) {
	r.mu.Lock()
	r.kicked = append(r.kicked, req.ConnId)
	r.mu.Unlock()
	return &gatewaygen.KickResponse{Found: true}, nil
}

func (r *recorder) Drain(context.Context, *gatewaygen.DrainRequest) (*gatewaygen.DrainResponse, error) {
	return &gatewaygen.DrainResponse{}, nil
}

// pushes returns the PUSH frames conn received, decoded, waiting up to 5s for at least n.
func (r *recorder) pushes(t *testing.T, conn string, n int) []*frame.Push {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		var out []*frame.Push
		for _, d := range r.frames[conn] {
			if d.op == protocol.OpPush {
				p := &frame.Push{}
				if err := protocol.DecodeBody(d.body, p); err != nil {
					t.Fatal(err)
				}
				out = append(out, p)
			}
		}
		r.mu.Unlock()
		if len(out) >= n {
			return out
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("conn %s: %d pushes after 5s, want %d", conn, len(out), n)
		}
	}
}

func (r *recorder) count(conn string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames[conn])
}

type fixture struct {
	svc    *Service
	gw     *recorder
	store  store.Store
	routes router.Table
}

func newFixture(t *testing.T, tune ...func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "im.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rt := router.NewMemory(router.MemoryOptions{})
	gw := newRecorder()
	var cfg Config
	for _, f := range tune {
		f(&cfg)
	}
	svc := New(cfg, st, rt, gw, nil)
	t.Cleanup(func() {
		svc.Close()
		rt.Close()
		st.Close()
	})
	hash, err := auth.HashPassword("secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := st.PutUser(ctx, store.User{ID: u, Kind: "merchant", PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{svc: svc, gw: gw, store: st, routes: rt}
}

func (f *fixture) connect(t *testing.T, user, device, conn string) *logicgen.ConnectResponse {
	t.Helper()
	resp, err := f.svc.Connect(context.Background(), &logicgen.ConnectRequest{UserId: user, DeviceId: device, Node: "n1", ConnId: conn, Platform: "ios"})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f *fixture) send(t *testing.T, from, device, to, id, text string) *logicgen.SendResponse {
	t.Helper()
	resp, err := f.svc.Send(context.Background(), &logicgen.SendRequest{UserId: from, DeviceId: device, ClientMsgId: id, ToUser: to, Body: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
