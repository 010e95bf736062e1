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

func TestAddrSkipsPortsInUse(t *testing.T) {
	// Of the 101 ports pick may choose here, all but one are held (by this test, or by
	// someone else): it must find that one.
	const span = 101
	var free string
	for p := lowest; p < lowest+span; p++ {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue // held already
		}
		if free == "" {
			free = addr
			ln.Close()
			continue
		}
		defer ln.Close()
	}
	if free == "" {
		t.Skipf("every port from %d to %d is in use on this machine", lowest, lowest+span-1)
	}
	for range 5 {
		a, err := pick(lowest + span)
		if err != nil {
			t.Fatalf("pick: %v, with %s free", err, free)
		}
		if a != free {
			t.Fatalf("pick gave %s, which is in use; %s is the free one", a, free)
		}
	}
}
