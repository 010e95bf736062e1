package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// memSample is a process's resident memory, in bytes, from /proc/PID/status.
type memSample struct {
	RSS     int64 `json:"rss_bytes"`      // VmRSS: everything resident
	RSSAnon int64 `json:"rss_anon_bytes"` // RssAnon: heap, stacks and other private memory
}

func statusPath(pid int) string {
	if pid == 0 {
		return "/proc/self/status"
	}
	return "/proc/" + strconv.Itoa(pid) + "/status"
}

// readMem reads the memory of pid (0: this process).
func readMem(pid int) (memSample, error) {
	b, err := os.ReadFile(statusPath(pid))
	if err != nil {
		return memSample{}, fmt.Errorf("read memory: %w", err)
	}
	return parseStatus(bytes.NewReader(b))
}

// parseStatus extracts VmRSS and RssAnon from /proc/PID/status text ("VmRSS:  1234 kB").
func parseStatus(r io.Reader) (memSample, error) {
	var m memSample
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "RssAnon") {
			continue
		}
		v, err := parseKB(rest)
		if err != nil {
			return m, fmt.Errorf("parse %s: %w", key, err)
		}
		if key == "VmRSS" {
			m.RSS = v
		} else {
			m.RSSAnon = v
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("parse status: %w", err)
	}
	if found < 2 {
		return m, fmt.Errorf("parse status: VmRSS or RssAnon missing: %w", io.ErrUnexpectedEOF)
	}
	return m, nil
}

func parseKB(s string) (int64, error) {
	f := strings.Fields(s)
	if len(f) != 2 || f[1] != "kB" {
		return 0, fmt.Errorf("%q is not a kB figure", s)
	}
	v, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, err
	}
	return v << 10, nil
}

// kernelTCPMem is the memory the kernel holds for all TCP sockets (socket buffers), in
// bytes, from /proc/net/sockstat: not user-space memory, reported beside it so the total
// cost of a connection is visible too.
func kernelTCPMem() (int64, error) {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0, fmt.Errorf("read sockstat: %w", err)
	}
	return parseSockstat(bytes.NewReader(b), int64(os.Getpagesize()))
}

func parseSockstat(r io.Reader, pageSize int64) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(f); i += 2 {
			if f[i] == "mem" {
				pages, err := strconv.ParseInt(f[i+1], 10, 64)
				if err != nil {
					return 0, fmt.Errorf("parse sockstat: %w", err)
				}
				return pages * pageSize, nil
			}
		}
	}
	return 0, fmt.Errorf("parse sockstat: no TCP mem: %w", io.ErrUnexpectedEOF)
}

// settle samples read every interval until the last window samples lie within tolerance
// (a fraction of the latest) of each other, and returns the latest. Past timeout it returns
// the latest with ErrUnstable, so a noisy machine still yields a figure, flagged.
func settle(ctx context.Context, read func() (int64, error), interval, timeout time.Duration, window int, tolerance float64) (int64, error) {
	deadline := time.Now().Add(timeout)
	var samples []int64
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return lastOf(samples), ctx.Err()
		case <-t.C:
		}
		v, err := read()
		if err != nil {
			return 0, err
		}
		samples = append(samples, v)
		if len(samples) >= window && spread(samples[len(samples)-window:]) <= tolerance*float64(v) {
			return v, nil
		}
		if time.Now().After(deadline) {
			return v, fmt.Errorf("%d samples over %s, last %d: %w", len(samples), timeout, v, ErrUnstable)
		}
		t.Reset(interval)
	}
}

func lastOf(s []int64) int64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

func spread(s []int64) float64 {
	lo, hi := s[0], s[0]
	for _, v := range s[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return float64(hi - lo)
}
