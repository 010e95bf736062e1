package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/internal/freeport"
)

var binary string // the bangbang executable, built once

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "campaignload")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bangbang")
	if out, err := exec.Command("go", "build", "-o", binary, "../../cmd/bangbang").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build bangbang: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string { return freeport.Addr(t) }

// The program against a real `bangbang all`: it imports the audience, runs the capped
// campaign to the end and the uncapped rounds to connected devices, and reports figures
// that agree with what it did.
func TestAgainstServer(t *testing.T) {
	const secret, key = "campaignload-token-secret-0123456789", "bbk_campaignload_test_key"
	tcp, admin := freeAddr(t), freeAddr(t)
	cmd := exec.Command(binary, "all", "--data-dir", t.TempDir(), "--log-level", "warn", "--token-secret", secret,
		"--tcp-addr", tcp, "--ws-addr", "-", "--edge-addr", freeAddr(t), "--admin-addr", admin,
		"--sim-housing-addr", freeAddr(t), "--sim-recruitment-addr", freeAddr(t), "--sim-account-addr", freeAddr(t))
	cmd.Env = append(os.Environ(), "BANGBANG_ADMIN_KEY="+key)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling readiness
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"--admin", "http://" + admin, "--admin-key", key, "--server-pid", fmt.Sprint(cmd.Process.Pid),
		"--merchants", "400", "--rate", "1000", "--devices", "20", "--push-rounds", "2", "--im", tcp, "--token-secret", secret,
		"--sample", "50ms"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res struct {
		Merchants    int     `json:"merchants"`
		Fix          float64 `json:"fix_audience_seconds"`
		Send         float64 `json:"send_seconds"`
		Rate         float64 `json:"rate_overall"`
		CPU          float64 `json:"server_cpu_seconds"`
		RSS          int64   `json:"server_peak_rss_bytes"`
		Frames       int64   `json:"push_frames"`
		FramesPerSec float64 `json:"push_frames_per_second"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if res.Merchants != 400 || res.Fix <= 0 || res.Send <= 0 || res.Rate <= 0 || res.CPU <= 0 || res.RSS <= 0 {
		t.Fatalf("figures %+v\n%s", res, out.String())
	}
	if res.Frames < 40 || res.FramesPerSec <= 0 { // 2 rounds to 20 devices; a late sync may add one
		t.Fatalf("%d frames pushed at %.0f/s, want 40\n%s", res.Frames, res.FramesPerSec, out.String())
	}
}
