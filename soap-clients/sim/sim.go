package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/bangbang-im/bangbang/gen/soap/wsdl"
)

// ErrStarted is returned by Start on a Sim already started (or shut down).
var ErrStarted = errors.New("sim: already started")

// Sim is the three simulated business lines and the world they share.
type Sim struct {
	cfg     Config
	world   *world
	servers map[string]*server
	addrs   map[string]string // configured listen addresses

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	serving sync.WaitGroup
}

// New builds a Sim; Start binds its ports.
func New(cfg Config) (*Sim, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w := newWorld(cfg.Now)
	s := &Sim{
		cfg:     cfg,
		world:   w,
		servers: make(map[string]*server, 3),
		addrs:   map[string]string{Housing: cfg.HousingAddr, Recruitment: cfg.RecruitmentAddr, Account: cfg.AccountAddr},
	}
	for _, svc := range []*service{newHousing(w), newRecruitment(w), newAccount(w)} {
		doc, err := wsdl.Files.ReadFile(svc.wsdlFile)
		if err != nil {
			return nil, fmt.Errorf("sim: read embedded %s: %w", svc.wsdlFile, err)
		}
		s.servers[svc.line] = newServer(svc, &s.cfg, doc)
	}
	return s, nil
}

// Start binds the three listen addresses and serves them. It fails, with
// nothing left listening, if any address cannot be bound.
func (s *Sim) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return ErrStarted
	}
	var lns []net.Listener
	for _, line := range Lines() {
		ln, err := net.Listen("tcp", s.addrs[line])
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return fmt.Errorf("sim: listen %s on %s: %w", line, s.addrs[line], err)
		}
		lns = append(lns, ln)
	}
	// Request contexts derive from base, so Shutdown can end the calls that
	// would otherwise hold it up: injected latency and endless answers.
	base, cancel := context.WithCancel(context.Background())
	s.started, s.cancel = true, cancel
	for i, line := range Lines() {
		srv := s.servers[line]
		srv.ln = lns[i]
		srv.http = srv.newHTTPServer(base)
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := srv.http.Serve(srv.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				srv.log.Error("serve", "err", err)
			}
		}()
		s.cfg.Logger.Info("sim listening", "line", line, "url", s.urlLocked(line))
	}
	return nil
}

// Shutdown stops the three servers: it cancels calls waiting on injected
// latency or streaming endless answers, lets the others finish, and returns
// when every handler and serving goroutine has, or ctx is done (then
// connections are closed forcibly and ctx's error is returned).
func (s *Sim) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	cancel := s.cancel
	s.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return nil // never started, or already shut down
	}
	cancel()
	// The three servers drain in parallel, each under the same deadline.
	errs := make([]error, len(Lines()))
	var wg sync.WaitGroup
	for i, line := range Lines() {
		srv := s.servers[line]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.http.Shutdown(ctx); err != nil {
				_ = srv.http.Close()
				errs[i] = fmt.Errorf("sim: shut down %s: %w", line, err)
			}
		}()
	}
	wg.Wait()
	s.serving.Wait()
	return errors.Join(errs...)
}

// Addrs returns the addresses the servers listen on (once started; before,
// the configured ones).
func (s *Sim) Addrs() (housing, recruitment, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrLocked(Housing), s.addrLocked(Recruitment), s.addrLocked(Account)
}

func (s *Sim) addrLocked(line string) string {
	if srv := s.servers[line]; srv.ln != nil {
		return srv.ln.Addr().String()
	}
	return s.addrs[line]
}

// URL returns the SOAP endpoint of a line, e.g.
// http://127.0.0.1:8600/soap/housing/v1, or "" for an unknown line. A server
// listening on every interface is reached through 127.0.0.1.
func (s *Sim) URL(line string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.urlLocked(line)
}

func (s *Sim) urlLocked(line string) string {
	srv, ok := s.servers[line]
	if !ok {
		return ""
	}
	host, port, err := net.SplitHostPort(s.addrLocked(line))
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + srv.svc.path
}

// SetFaults replaces a line's injected faults; the zero Faults restores a
// well-behaved server. Calls already waiting keep the faults they drew.
func (s *Sim) SetFaults(line string, f Faults) error {
	srv, ok := s.servers[line]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownLine, line)
	}
	if err := f.validate(); err != nil {
		return err
	}
	srv.faults.Store(&f)
	return nil
}

// Calls returns how many calls of a line's operation reached the server
// (rejected requests excluded, injected failures included); 0 for an unknown
// line or operation.
func (s *Sim) Calls(line, op string) int64 {
	srv, ok := s.servers[line]
	if !ok {
		return 0
	}
	n, ok := srv.calls[op]
	if !ok {
		return 0
	}
	return n.Load()
}

// Stats returns a line's counters, as GET /_sim/stats does.
func (s *Sim) Stats(line string) (Stats, error) {
	srv, ok := s.servers[line]
	if !ok {
		return Stats{}, fmt.Errorf("%w: %q", ErrUnknownLine, line)
	}
	return srv.stats(), nil
}

// Credits returns a merchant's spendable credits in the shared ledger, and
// whether the merchant exists.
func (s *Sim) Credits(merchant string) (int64, bool) { return s.world.balance(merchant) }

// Merchants lists the simulated merchants, m1001 to m1020.
func Merchants() []string { return merchantIDs() }
