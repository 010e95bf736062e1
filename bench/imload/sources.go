package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// sourcePlan says which local address connection i dials from. The kernel picks a local
// port per source address from ip_local_port_range, so one source address holds at most
// that many connections to the same server port; loopback has 127.0.0.0/8 to spread over.
type sourcePlan struct {
	ips   []netip.Addr // empty: the kernel picks the source address
	perIP int          // connections per source address
}

// newSourcePlan reads spec: "auto" (127.0.0.2 to 127.0.0.254 when target is a loopback
// address, else the kernel's choice), "none" (the kernel's choice), or a list of
// addresses and ranges, "127.0.0.2-127.0.0.9,127.0.1.1".
func newSourcePlan(spec, target string, perIP int) (sourcePlan, error) {
	if perIP <= 0 {
		return sourcePlan{}, fmt.Errorf("source plan: %d connections per address: %w", perIP, ErrCapacity)
	}
	p := sourcePlan{perIP: perIP}
	switch spec {
	case "none", "":
		return p, nil
	case "auto":
		host, _, err := net.SplitHostPort(target)
		if err != nil {
			return p, fmt.Errorf("source plan: target %q: %w", target, err)
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is4() || !a.IsLoopback() {
			return p, nil
		}
		spec = "127.0.0.2-127.0.0.254"
	}
	for part := range strings.SplitSeq(spec, ",") {
		first, last, isRange := strings.Cut(strings.TrimSpace(part), "-")
		lo, err := netip.ParseAddr(first)
		if err != nil {
			return p, fmt.Errorf("source plan: %w", err)
		}
		hi := lo
		if isRange {
			if hi, err = netip.ParseAddr(last); err != nil {
				return p, fmt.Errorf("source plan: %w", err)
			}
		}
		if !lo.Is4() || !hi.Is4() || hi.Less(lo) {
			return p, fmt.Errorf("source plan: %q is not an IPv4 range", part)
		}
		for a := lo; !hi.Less(a); a = a.Next() {
			p.ips = append(p.ips, a)
		}
	}
	return p, nil
}

// capacity is how many connections the plan can place.
func (p sourcePlan) capacity() int { return max(len(p.ips), 1) * p.perIP }

// used is how many source addresses n connections take.
func (p sourcePlan) used(n int) int {
	if len(p.ips) == 0 {
		return 1
	}
	return min((n+p.perIP-1)/p.perIP, len(p.ips))
}

// local is connection i's local address; nil lets the kernel choose.
func (p sourcePlan) local(i int) *net.TCPAddr {
	if len(p.ips) == 0 {
		return nil
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(p.ips[(i/p.perIP)%len(p.ips)], 0))
}

// defaultPerIP leaves a quarter of the ephemeral port range free: ports still in TIME_WAIT
// from an earlier run, and the load program's own logins, need some.
func defaultPerIP() int {
	const fallback = 20000
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallback
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return fallback
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi <= lo {
		return fallback
	}
	return (hi - lo + 1) * 3 / 4
}
