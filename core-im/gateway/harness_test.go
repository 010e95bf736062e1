package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// Transports every behaviour test runs over.
const (
	viaEventLoop = "eventloop"
	viaNetpoll   = "netpoll"
	viaGoroutine = "goroutine"
	viaWS        = "ws"
)

var transports = []string{viaEventLoop, viaNetpoll, viaGoroutine, viaWS}

// waitTimeout bounds every wait on a condition in these tests.
const waitTimeout = 5 * time.Second

var testSecret = []byte(strings.Repeat("s", auth.MinSecretBytes))

type env struct {
	t      *testing.T
	g      *Gateway
	logic  *fakeLogic
	tokens *auth.Tokens
	via    string
}

func testLogger() *slog.Logger {
	if os.Getenv("GATEWAY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// start runs a gateway for one transport on loopback, shut down when the test ends.
func start(t *testing.T, via string, tune func(*Config)) *env {
	t.Helper()
	cfg := Config{TCPAddr: "127.0.0.1:0", WSAddr: Disabled, Node: "gw-test", IOModel: IOModelNetpoll}
	switch via {
	case viaEventLoop:
		cfg.IOModel = IOModelEventLoop
	case viaGoroutine:
		cfg.IOModel = IOModelGoroutine
	case viaWS:
		cfg.TCPAddr, cfg.WSAddr = Disabled, "127.0.0.1:0"
	}
	if tune != nil {
		tune(&cfg)
	}
	tokens, err := auth.NewTokens(testSecret, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	logic := newFakeLogic()
	g, err := New(cfg, logic, tokens, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &env{t: t, g: g, logic: logic, tokens: tokens, via: via}
}

func (e *env) token(user string) string {
	e.t.Helper()
	tok, _, err := e.tokens.Issue(user, "merchant")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// client is a raw protocol client over TCP or WebSocket.
type client struct {
	t       *testing.T
	nc      net.Conn
	rd      *protocol.Reader
	ws      *wsClient
	pending [][]byte // frames of the last WebSocket message not yet returned
	seq     uint32
}

// dial connects a client that belongs to t (a subtest may dial on its parent's gateway).
func (e *env) dial(t *testing.T) *client {
	t.Helper()
	c := &client{t: t}
	if e.via == viaWS {
		c.ws = dialWS(t, e.g.WSAddr().String())
	} else {
		nc, err := net.DialTimeout("tcp", e.g.TCPAddr().String(), waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		c.nc = nc
		c.rd = protocol.NewReader(nc, 1<<20)
	}
	t.Cleanup(c.close)
	return c
}

func dialWS(t *testing.T, addr string) *wsClient {
	t.Helper()
	ws, err := dialWSClient(addr, WSPath)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func (c *client) close() {
	if c.ws != nil {
		_ = c.ws.close()
	} else {
		_ = c.nc.Close()
	}
}

// raw writes bytes as they are: one WebSocket message, or onto the TCP stream.
func (c *client) raw(b []byte) {
	c.t.Helper()
	var err error
	if c.ws != nil {
		err = c.ws.writeMessage(b)
	} else {
		_, err = c.nc.Write(b)
	}
	if err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes one request and returns its seq.
func (c *client) send(op protocol.Op, body protocol.Body) uint32 {
	c.t.Helper()
	c.seq++
	c.raw(protocol.AppendMessage(nil, op, c.seq, nil, body))
	return c.seq
}

// next reads one frame (body copied) within waitTimeout.
func (c *client) next() (protocol.Frame, error) {
	deadline := time.Now().Add(waitTimeout)
	if c.ws != nil {
		if len(c.pending) == 0 {
			mt, data, err := c.ws.readMessage(deadline)
			if err != nil {
				return protocol.Frame{}, err
			}
			if mt != wsOpBinary {
				return protocol.Frame{}, fmt.Errorf("message type %d", mt)
			}
			for len(data) > 0 {
				_, n, err := protocol.Parse(data, 1<<20)
				if err != nil || n == 0 {
					return protocol.Frame{}, fmt.Errorf("bad frame in message: %v", err)
				}
				c.pending = append(c.pending, data[:n])
				data = data[n:]
			}
		}
		f, _, err := protocol.Parse(c.pending[0], 1<<20)
		c.pending = c.pending[1:]
		return f, err
	}
	_ = c.nc.SetReadDeadline(deadline)
	f, err := c.rd.Next()
	if err != nil {
		return f, err
	}
	f.Body = slices.Clone(f.Body)
	return f, nil
}

// expect reads the next frame, which must be op with the given seq; decodes it into body.
func (c *client) expect(op protocol.Op, seq uint32, body protocol.Body) {
	c.t.Helper()
	f, err := c.next()
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", op, err)
	}
	if f.Op != op || f.Seq != seq {
		desc := ""
		if f.Op == protocol.OpError {
			var e frame.Error
			_ = protocol.DecodeBody(f.Body, &e)
			desc = e.String()
		}
		c.t.Fatalf("got %s seq %d %s, want %s seq %d", f.Op, f.Seq, desc, op, seq)
	}
	if body != nil {
		if err := protocol.DecodeBody(f.Body, body); err != nil {
			c.t.Fatalf("%s body: %v", op, err)
		}
	}
}

func (c *client) expectError(seq uint32, code common.ErrorCode) *frame.Error {
	c.t.Helper()
	var e frame.Error
	c.expect(protocol.OpError, seq, &e)
	if e.Code != int32(code) {
		c.t.Fatalf("error code %v (%q), want %v", common.ErrorCode(e.Code), e.Message, code)
	}
	return &e
}

// expectClosed waits for the server to close the connection, with no frame before.
func (c *client) expectClosed() {
	c.t.Helper()
	f, err := c.next()
	if err == nil {
		c.t.Fatalf("got %s seq %d, want the connection closed", f.Op, f.Seq)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("connection still open after %v", waitTimeout)
	}
}

// login authenticates as user on device and returns AUTH_OK.
func (c *client) login(e *env, user, device string) *frame.AuthResponse {
	c.t.Helper()
	seq := c.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token(user), DeviceId: device, Platform: "ios"})
	var ok frame.AuthResponse
	c.expect(protocol.OpAuthOK, seq, &ok)
	return &ok
}

func (c *client) heartbeat() {
	c.t.Helper()
	seq := c.send(protocol.OpHeartbeat, &frame.Heartbeat{ClientTimeMs: 1})
	c.expect(protocol.OpHeartbeatAck, seq, &frame.HeartbeatAck{})
}

// eventually waits until cond holds, re-checking whenever logic is called and at least
// every few milliseconds (for conditions on counters, which signal nothing).
func (e *env) eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-e.logic.changed:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
