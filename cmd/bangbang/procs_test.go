package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/internal/freeport"
	"github.com/bangbang-im/bangbang/internal/pgtest"
	"github.com/bangbang-im/bangbang/internal/syncbuf"
)

// binary is the bangbang executable the end-to-end tests run, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bangbang-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bangbang")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build bangbang: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address nothing listens on now, below the ephemeral range so
// no port-0 bind of the process under test can take it first (package freeport).
func freeAddr(t *testing.T) string { return freeport.Addr(t) }

// proc is a bangbang process under test; its output is kept for the failure report.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
}

// start runs bangbang with args and env, and waits until every address in ready accepts
// TCP connections.
func start(t *testing.T, name string, env []string, ready []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	return startCmd(t, name, cmd, ready)
}

// startCmd runs cmd (any program) as start does.
func startCmd(t *testing.T, name string, cmd *exec.Cmd, ready []string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, cmd: cmd, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s output ---\n%s", name, p.out.String())
		}
	})
	for _, a := range ready {
		p.waitListening(a)
	}
	return p
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BANGBANG_") || strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "REDIS_ADDR=") ||
			strings.HasPrefix(kv, "ETCD_ENDPOINTS=") || strings.HasPrefix(kv, "KITEX_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (p *proc) waitListening(addr string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			p.t.Fatalf("%s exited before listening on %s:\n%s", p.name, addr, p.out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not synchronising on time
	}
	p.t.Fatalf("%s not listening on %s after 30s:\n%s", p.name, addr, p.out.String())
}

// stop sends SIGTERM and waits for a graceful exit.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("%s did not stop within 20s of SIGTERM", p.name)
	}
}

// kill ends the process at once, as a crash would.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// pgSchema creates a fresh schema for one test and returns a DATABASE_URL using it.
func pgSchema(t *testing.T) string {
	t.Helper()
	return pgtest.SchemaURL(t, "e2e")
}

func httpGet(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
