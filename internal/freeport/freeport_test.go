package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestAddrIsBelowTheEphemeralRangeAndFree(t *testing.T) {
	limit := ephemeralStart()
	for range 50 {
		a := Addr(t)
		_, p, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(p)
		if limit > lowest+100 && (port < lowest || port >= limit) {
			t.Fatalf("port %d outside [%d, %d)", port, lowest, limit)
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("Addr gave %s, which cannot be bound: %v", a, err)
		}
		ln.Close()
	}
}

func TestAddrSkipsAPortInUse(t *testing.T) {
	// With room for exactly one port, the one held here, pick must say so rather than hand it out.
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(lowest))
	if err != nil {
		t.Skipf("port %d busy on this machine: %v", lowest, err)
	}
	defer ln.Close()
	if a, err := pick(lowest + 101); err == nil {
		if a == ln.Addr().String() {
			t.Fatalf("pick handed out %s, which is in use", a)
		}
	}
}
