package main

import (
	"errors"
	"testing"
)

func TestSourcePlan(t *testing.T) {
	for _, tc := range []struct {
		spec, target string
		perIP        int
		ips          int
		first, last  string // local address of connections 0 and ips*perIP-1, "" for none
	}{
		{"auto", "127.0.0.1:8800", 100, 253, "127.0.0.2", "127.0.0.254"},
		{"auto", "[::1]:8800", 100, 0, "", ""},
		{"auto", "10.0.0.5:8800", 100, 0, "", ""},
		{"none", "127.0.0.1:8800", 100, 0, "", ""},
		{"127.0.0.2-127.0.0.3,127.0.1.7", "127.0.0.1:8800", 10, 3, "127.0.0.2", "127.0.1.7"},
		{"127.0.0.255-127.0.1.0", "127.0.0.1:8800", 10, 2, "127.0.0.255", "127.0.1.0"},
	} {
		p, err := newSourcePlan(tc.spec, tc.target, tc.perIP)
		if err != nil {
			t.Fatalf("newSourcePlan(%q, %q): %v", tc.spec, tc.target, err)
		}
		if len(p.ips) != tc.ips {
			t.Errorf("%q: %d addresses, want %d", tc.spec, len(p.ips), tc.ips)
		}
		if got := p.capacity(); got != max(tc.ips, 1)*tc.perIP {
			t.Errorf("%q: capacity %d", tc.spec, got)
		}
		last := max(tc.ips, 1)*tc.perIP - 1
		for i, want := range map[int]string{0: tc.first, last: tc.last} {
			a := p.local(i)
			switch {
			case want == "" && a != nil:
				t.Errorf("%q: connection %d from %v, want the kernel's choice", tc.spec, i, a)
			case want != "" && (a == nil || a.IP.String() != want || a.Port != 0):
				t.Errorf("%q: connection %d from %v, want %s:0", tc.spec, i, a, want)
			}
		}
	}
}

func TestSourcePlanFillsEachAddressFirst(t *testing.T) {
	p, err := newSourcePlan("127.0.0.2-127.0.0.4", "127.0.0.1:1", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3", "127.0.0.3", "127.0.0.4"}
	for i, w := range want {
		if got := p.local(i).IP.String(); got != w {
			t.Errorf("connection %d from %s, want %s", i, got, w)
		}
	}
	for n, w := range map[int]int{1: 1, 3: 1, 4: 2, 9: 3, 100: 3} {
		if got := p.used(n); got != w {
			t.Errorf("used(%d) = %d, want %d", n, got, w)
		}
	}
}

func TestSourcePlanRejects(t *testing.T) {
	for _, spec := range []string{"127.0.0.9-127.0.0.2", "::1", "nonsense", "127.0.0.1-x"} {
		if _, err := newSourcePlan(spec, "127.0.0.1:1", 10); err == nil {
			t.Errorf("newSourcePlan(%q) accepted", spec)
		}
	}
	if _, err := newSourcePlan("auto", "127.0.0.1:1", 0); !errors.Is(err, ErrCapacity) {
		t.Errorf("0 per address: %v, want ErrCapacity", err)
	}
	if n := defaultPerIP(); n <= 0 {
		t.Errorf("defaultPerIP() = %d", n)
	}
}
