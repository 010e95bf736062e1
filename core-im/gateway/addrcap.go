package gateway

import (
	"net"
	"net/netip"
	"sync"
)

// addrCap counts the open connections of each client address on this node, TCP and
// WebSocket together, and refuses one more than Config.MaxConnsPerAddr. IPv6 clients are
// counted per /64, the block one subscriber gets: counting single IPv6 addresses would cap
// nothing. A connection is counted from its accept to the close of its socket.
type addrCap struct {
	g   *Gateway
	max int // < 0: no cap, nothing counted

	mu sync.Mutex
	n  map[netip.Addr]*addrCount
}

type addrCount struct {
	open   int
	warned bool // the cap was logged since the count was last below it
}

func newAddrCap(g *Gateway, max int) *addrCap {
	return &addrCap{g: g, max: max, n: map[netip.Addr]*addrCount{}}
}

// acquire takes a slot for the client at remote. It returns the function that gives the
// slot back (call it once, when the socket is closed), or ok false when the address is at
// its cap: the caller closes the connection.
func (a *addrCap) acquire(remote net.Addr) (release func(), ok bool) {
	if a.max < 0 {
		return func() {}, true
	}
	key, known := addrKey(remote)
	if !known {
		// Not an IP peer (a test's pipe, a Unix socket): nothing to count it by.
		return func() {}, true
	}
	a.mu.Lock()
	c := a.n[key]
	if c == nil {
		c = &addrCount{}
		a.n[key] = c
	}
	if c.open >= a.max {
		warn := !c.warned
		c.warned = true
		a.mu.Unlock()
		a.g.stats.refusedAddrCap.Add(1)
		if warn {
			a.g.log.Warn("connections refused: client address at its cap", "addr", key, "max", a.max)
		}
		return nil, false
	}
	c.open++
	a.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { a.release(key) }) }, true
}

func (a *addrCap) release(key netip.Addr) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.n[key]
	if c == nil {
		return
	}
	c.open--
	c.warned = false
	if c.open <= 0 {
		delete(a.n, key)
	}
}

// open is how many connections the address of remote holds now (for tests and logs).
func (a *addrCap) open(remote net.Addr) int {
	key, ok := addrKey(remote)
	if !ok {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.n[key]; c != nil {
		return c.open
	}
	return 0
}

// addrKey is what a client is counted by: its IPv4 address, or its IPv6 /64.
func addrKey(remote net.Addr) (netip.Addr, bool) {
	var ip netip.Addr
	switch r := remote.(type) {
	case *net.TCPAddr:
		ip = r.AddrPort().Addr()
	case nil:
		return netip.Addr{}, false
	default:
		ap, err := netip.ParseAddrPort(remote.String())
		if err != nil {
			return netip.Addr{}, false
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip, true
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return netip.Addr{}, false
	}
	return p.Addr(), true
}
