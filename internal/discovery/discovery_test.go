package discovery

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	kdiscovery "github.com/cloudwego/kitex/pkg/discovery"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
)

func TestParseEndpoints(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                      nil,
		" , ":                                   nil,
		"127.0.0.1:2379":                        {"127.0.0.1:2379"},
		" 10.0.0.1:2379 ,, 10.0.0.2:2379 ":      {"10.0.0.1:2379", "10.0.0.2:2379"},
		"http://etcd-0:2379,http://etcd-1:2379": {"http://etcd-0:2379", "http://etcd-1:2379"},
	} {
		if got := ParseEndpoints(in); !slices.Equal(got, want) {
			t.Errorf("ParseEndpoints(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigRefusesWhatCannotWork(t *testing.T) {
	if _, err := NewRegistry(Config{}); !errors.Is(err, ErrNoEndpoints) {
		t.Errorf("registry without endpoints: %v, want ErrNoEndpoints", err)
	}
	if _, err := NewResolver(Config{}); !errors.Is(err, ErrNoEndpoints) {
		t.Errorf("resolver without endpoints: %v, want ErrNoEndpoints", err)
	}
	if _, err := NewResolver(Config{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "a%vb"}); err == nil {
		t.Error("a prefix with a format verb was accepted: the registry's keys would be garbled")
	}
}

// fakeResolver stands in for etcd: it answers the instances it holds, or fails, and can
// hold a call until released.
type fakeResolver struct {
	mu      sync.Mutex
	calls   int
	fail    bool
	hold    chan struct{} // when set, Resolve waits for it
	entered chan struct{}
	addrs   []string
}

func (f *fakeResolver) Target(_ context.Context, ep rpcinfo.EndpointInfo) string {
	return ep.ServiceName()
}

func (f *fakeResolver) Resolve(ctx context.Context, _ string) (kdiscovery.Result, error) {
	f.mu.Lock()
	f.calls++
	hold, fail, addrs := f.hold, f.fail, f.addrs
	f.mu.Unlock()
	if hold != nil {
		f.entered <- struct{}{}
		<-hold
	}
	if fail {
		return kdiscovery.Result{}, errors.New("etcd: context deadline exceeded")
	}
	var ins []kdiscovery.Instance
	for _, a := range addrs {
		ins = append(ins, kdiscovery.NewInstance("tcp", a, DefaultWeight, map[string]string{TagTCP: a + "-im"}))
	}
	return kdiscovery.Result{Instances: ins}, nil
}

func (f *fakeResolver) Diff(string, kdiscovery.Result, kdiscovery.Result) (kdiscovery.Change, bool) {
	return kdiscovery.Change{}, false
}
func (f *fakeResolver) Name() string { return "fake" }

func (f *fakeResolver) set(fn func(*fakeResolver)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// The gateway list is read once per ttl; while etcd fails, the last list serves and etcd is
// tried again only after ttl; while one caller reads etcd, the others get the last list at
// once.
func TestGatewaysCacheAndBackOff(t *testing.T) {
	f := &fakeResolver{addrs: []string{"10.0.0.2:8901", "10.0.0.1:8901"}}
	now := time.Unix(1000, 0)
	g := NewGateways(f, 3*time.Second)
	g.now = func() time.Time { return now }
	ctx := context.Background()

	list, err := g.List(ctx)
	if err != nil || len(list) != 2 || list[0].Node != "10.0.0.1:8901" || list[0].TCP != "10.0.0.1:8901-im" {
		t.Fatalf("first list %+v, %v; want both, sorted by node, with their IM address", list, err)
	}
	if _, _ = g.List(ctx); f.calls != 1 {
		t.Fatalf("%d reads within the ttl, want 1", f.calls)
	}

	now = now.Add(4 * time.Second)
	f.set(func(f *fakeResolver) { f.fail = true })
	if list, err := g.List(ctx); err == nil || len(list) != 2 {
		t.Fatalf("with etcd failing: %+v, %v; want the last list and the error", list, err)
	}
	if list, err := g.List(ctx); err != nil || len(list) != 2 || f.calls != 2 {
		t.Fatalf("right after a failed read: %+v, %v, %d reads; want the last list and no new read", list, err, f.calls)
	}

	now = now.Add(4 * time.Second)
	f.set(func(f *fakeResolver) { f.fail, f.hold, f.entered = false, make(chan struct{}), make(chan struct{}, 1) })
	done := make(chan struct{})
	go func() { defer close(done); _, _ = g.List(ctx) }()
	<-f.entered // that caller is reading etcd
	if list, err := g.List(ctx); err != nil || len(list) != 2 {
		t.Fatalf("during another caller's read: %+v, %v; want the last list at once", list, err)
	}
	close(f.hold)
	<-done
}
