package logic_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/core-im/logic"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	"github.com/bangbang-im/bangbang/internal/pgtest"
)

// frameWait bounds every wait for a frame in these tests: a failure deadline, never a
// delay they depend on.
const frameWait = 10 * time.Second

// imStack is a gateway on loopback over the real logic, a real store (SQLite or
// PostgreSQL) and the in-process route table: what a client meets, on real sockets.
type imStack struct {
	st     store.Store
	gw     *gateway.Gateway
	reg    *prometheus.Registry
	tokens *auth.Tokens
	addr   string
}

// backends runs fn once per store backend.
func backends(t *testing.T, fn func(t *testing.T, open func(t *testing.T) store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, openSQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, func(t *testing.T) store.Store {
			st, err := store.OpenPostgres(t.Context(), pgtest.SchemaURL(t, "logic_limits"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
}

func newIMStack(t *testing.T, st store.Store, users []string, tune func(*gateway.Config)) *imStack {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() { _ = st.Close() })
	for _, id := range users {
		if err := st.PutUser(ctx, store.User{ID: id, Kind: store.UserCustomer, PasswordHash: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	rt := router.NewMemory(router.MemoryOptions{})
	t.Cleanup(func() { _ = rt.Close() })
	tk, err := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	gws := &logic.LocalGateways{}
	svc := logic.New(logic.Config{}, st, rt, gws, nil)
	t.Cleanup(svc.Close)
	reg := prometheus.NewRegistry()
	cfg := gateway.Config{TCPAddr: "127.0.0.1:0", WSAddr: gateway.Disabled, Metrics: reg}
	if tune != nil {
		tune(&cfg)
	}
	gw, err := gateway.New(cfg, svc, tk, nil)
	if err != nil {
		t.Fatal(err)
	}
	gws.GW = gw
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Shutdown(context.Background()) })
	return &imStack{st: st, gw: gw, reg: reg, tokens: tk, addr: gw.TCPAddr().String()}
}

// metric reads a counter or gauge without labels from the gateway's registry.
func (s *imStack) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			if c := mf.Metric[0].GetCounter(); c != nil {
				return c.GetValue()
			}
			return mf.Metric[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// rawConn is a client written from docs/protocol.md: frames on a TCP socket, read by the
// strict protocol reader, which refuses any frame over the documented maximum.
type rawConn struct {
	t   *testing.T
	nc  net.Conn
	rd  *protocol.Reader
	seq uint32
}

func (s *imStack) dial(t *testing.T) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.addr, frameWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &rawConn{t: t, nc: nc, rd: protocol.NewReader(nc, protocol.DefaultMaxBody)}
}

// login dials and authenticates user with a device of its own.
func (s *imStack) login(t *testing.T, user string) (*rawConn, *frame.AuthResponse) {
	t.Helper()
	c := s.dial(t)
	tok, _, err := s.tokens.Issue(user, "customer")
	if err != nil {
		t.Fatal(err)
	}
	seq := c.send(protocol.OpAuth, &frame.AuthRequest{Token: tok, DeviceId: "phone", Platform: "cli"})
	var ok frame.AuthResponse
	c.expect(protocol.OpAuthOK, seq, &ok)
	return c, &ok
}

func (c *rawConn) write(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(frameWait))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// frame encodes one request with the next seq.
func (c *rawConn) frame(op protocol.Op, body protocol.Body) ([]byte, uint32) {
	c.seq++
	return protocol.AppendMessage(nil, op, c.seq, nil, body), c.seq
}

func (c *rawConn) send(op protocol.Op, body protocol.Body) uint32 {
	c.t.Helper()
	b, seq := c.frame(op, body)
	c.write(b)
	return seq
}

// next reads one frame (its body copied); the reader fails on a frame over the maximum.
func (c *rawConn) next() (protocol.Frame, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(frameWait))
	f, err := c.rd.Next()
	f.Body = slices.Clone(f.Body)
	return f, err
}

// expect reads frames, skipping pushes (seq 0 PUSH or READ_RECEIPT), until the answer to
// seq, which must be op; it decodes it into body.
func (c *rawConn) expect(op protocol.Op, seq uint32, body protocol.Body) {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for %s [%d]: %v", op, seq, err)
		}
		if f.Seq == 0 && (f.Op == protocol.OpPush || f.Op == protocol.OpReadReceipt) {
			continue
		}
		if f.Op != op || f.Seq != seq {
			var e frame.Error
			_ = protocol.DecodeBody(f.Body, &e)
			c.t.Fatalf("got %s [%d] (%+v), want %s [%d]", f.Op, f.Seq, &e, op, seq)
		}
		if err := protocol.DecodeBody(f.Body, body); err != nil {
			c.t.Fatalf("decode %s: %v", op, err)
		}
		return
	}
}

func (c *rawConn) expectError(seq uint32, code common.ErrorCode) *frame.Error {
	c.t.Helper()
	var e frame.Error
	c.expect(protocol.OpError, seq, &e)
	if common.ErrorCode(e.Code) != code {
		c.t.Fatalf("ERROR [%d] %s (%q), want %s", seq, common.ErrorCode(e.Code), e.Message, code)
	}
	return &e
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "im.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// isReset tells a connection the server closed with unread data (RST), an end like EOF.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET)
}
