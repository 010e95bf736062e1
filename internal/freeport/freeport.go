// Package freeport hands tests loopback addresses to give a process they start.
//
// An address taken from "127.0.0.1:0" and closed again is in the kernel's ephemeral range,
// which is where every later bind to port 0 and every outgoing connection draws from: a
// process that binds its own helpers to port 0 (the simulators in `bangbang all`) can take
// the very port the test meant for its edge before the edge binds it. Addresses from here
// lie below that range, where only explicit binds land.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// lowest is the first port handed out: well above the registered services a machine runs.
const lowest = 20000

// Addr returns a loopback address, below the ephemeral range, that nothing listens on now.
func Addr(t testing.TB) string {
	t.Helper()
	a, err := pick(ephemeralStart())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func pick(limit int) (string, error) {
	if limit <= lowest+100 {
		// An unusual range leaves no room below it: fall back to the kernel's choice.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		defer ln.Close()
		return ln.Addr().String(), nil
	}
	// From a random port, every port of the range in turn: concurrent tests rarely start
	// at the same place, and a free port is found whenever there is one.
	var last error
	n := limit - lowest
	start := rand.IntN(n)
	for i := range n {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(lowest+(start+i)%n))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			last = err
			continue
		}
		ln.Close()
		return addr, nil
	}
	return "", fmt.Errorf("freeport: no free port below %d: %w", limit, last)
}

// ephemeralStart is the first port of the kernel's ephemeral range (Linux's default when it
// cannot be read).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}
