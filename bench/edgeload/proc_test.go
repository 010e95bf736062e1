package main

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/bench/procstat"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses must not shift the fields.
	stat := "4242 (bang bang) (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 12 0 100 0 0"
	got, err := procstat.ParseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Fatalf("cpu %v, want %v (250+75 ticks)", got, want)
	}
	if _, err := procstat.ParseStatCPU("4242 (short) S 1 2"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated stat: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := procstat.ParseStatCPU("no name"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("stat without a name: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestCPUOfThisProcessGrows(t *testing.T) {
	before, err := selfCPU()
	if err != nil {
		t.Fatal(err)
	}
	procBefore, err := procstat.CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn until getrusage has seen 30 ms more, within a deadline: a condition, not a sleep.
	deadline := time.Now().Add(10 * time.Second)
	x := 1
	for {
		for i := range 1_000_000 {
			x = x*31 + i
		}
		now, err := selfCPU()
		if err != nil {
			t.Fatal(err)
		}
		if now-before >= 30*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("getrusage did not grow past %v in 10s", now-before)
		}
	}
	procAfter, err := procstat.CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if procAfter <= procBefore {
		t.Errorf("/proc/self/stat cpu %v -> %v after burning 30 ms (x=%d)", procBefore, procAfter, x)
	}
}

func TestParseCommandStats(t *testing.T) {
	info := "# Commandstats\r\n" +
		"cmdstat_get:calls=100,usec=50,usec_per_call=0.50,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_evalsha:calls=12,usec=340,usec_per_call=28.33,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_eval:calls=3,usec=60,usec_per_call=20.00,rejected_calls=0,failed_calls=0\r\n"
	got, err := parseCommandStats(info)
	if err != nil {
		t.Fatal(err)
	}
	if want := (scriptCounters{Calls: 15, Usec: 400}); got != want {
		t.Fatalf("script counters %+v, want %+v (GET not counted)", got, want)
	}
	if _, err := parseCommandStats("cmdstat_evalsha:calls=x,usec=1\r\n"); err == nil {
		t.Error("a malformed count parsed without error")
	}
}

func TestCPUSampleArithmetic(t *testing.T) {
	a := cpuSample{roleEdge: 5 * time.Second, roleSelf: 2 * time.Second}
	b := cpuSample{roleEdge: 3 * time.Second, roleSelf: time.Second}
	d := a.sub(b)
	if d[roleEdge] != 2*time.Second || d[roleSelf] != time.Second {
		t.Fatalf("sub %v", d)
	}
	if s := d.add(b); s[roleEdge] != a[roleEdge] || s[roleSelf] != a[roleSelf] {
		t.Fatalf("add %v, want %v", s, a)
	}
	if got := perAction(d, 1000); got[roleEdge] != 2000 || got[roleSelf] != 1000 {
		t.Fatalf("per action %v µs, want edge 2000 and self 1000", got)
	}
}
