package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/bench/procstat"
)

const statusSample = `Name:	bangbang
VmPeak:	 1800000 kB
VmRSS:	   41234 kB
RssAnon:	    9600 kB
RssFile:	   31634 kB
Threads:	12
`

func TestParseStatus(t *testing.T) {
	m, err := parseStatus(strings.NewReader(statusSample))
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS != 41234<<10 || m.RSSAnon != 9600<<10 {
		t.Fatalf("got %+v", m)
	}
	if _, err := parseStatus(strings.NewReader("Name:\tx\nVmRSS:\t1 kB\n")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("without RssAnon: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := parseStatus(strings.NewReader("VmRSS:\t1 MB\nRssAnon:\t1 kB\n")); err == nil {
		t.Error("a figure not in kB was accepted")
	}
}

func TestReadMemOfThisProcess(t *testing.T) {
	m, err := readMem(0)
	if err != nil {
		t.Fatal(err)
	}
	same, err := readMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || same.RSS <= 0 || m.RSSAnon > m.RSS {
		t.Fatalf("self %+v, by pid %+v", m, same)
	}
}

func TestParseSockstat(t *testing.T) {
	const s = "sockets: used 180\nTCP: inuse 12 orphan 0 tw 3 alloc 15 mem 7\nUDP: inuse 2 mem 1\n"
	got, err := parseSockstat(strings.NewReader(s), 4096)
	if err != nil || got != 7*4096 {
		t.Fatalf("got %d, %v; want %d", got, err, 7*4096)
	}
	if _, err := parseSockstat(strings.NewReader("UDP: inuse 2 mem 1\n"), 4096); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("no TCP line: %v", err)
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name may contain spaces and parentheses.
	const s = "1234 (b b) (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0"
	got, err := procstat.ParseStatCPU(s)
	if err != nil || got != 3*time.Second {
		t.Fatalf("got %v, %v; want 3s (300 ticks)", got, err)
	}
	if _, err := procstat.ParseStatCPU("1234 (x) S 1"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short stat: %v", err)
	}
	if _, err := procstat.CPU(0); err != nil {
		t.Errorf("procstat.CPU(self): %v", err)
	}
}

// sequence returns the values in turn, then the last one forever.
func sequence(v ...int64) func() (int64, error) {
	i := 0
	return func() (int64, error) {
		x := v[min(i, len(v)-1)]
		i++
		return x, nil
	}
}

func TestSettle(t *testing.T) {
	ctx := context.Background()
	got, err := settle(ctx, sequence(100, 200, 1000, 1001, 1002, 1001), time.Millisecond, 10*time.Second, 3, 0.01)
	if err != nil || got != 1002 {
		t.Fatalf("settled at %d, %v; want 1002 (the first window of 3 within 1%%)", got, err)
	}
	grow := int64(0)
	rising := func() (int64, error) { grow += 1000; return grow, nil }
	got, err = settle(ctx, rising, time.Millisecond, 20*time.Millisecond, 3, 0.01)
	if !errors.Is(err, ErrUnstable) || got == 0 {
		t.Fatalf("ever-rising: %d, %v; want the last sample and ErrUnstable", got, err)
	}
	boom := errors.New("boom")
	if _, err := settle(ctx, func() (int64, error) { return 0, boom }, time.Millisecond, time.Second, 3, 0.01); !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := settle(cancelled, rising, time.Millisecond, time.Second, 3, 0.01); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
