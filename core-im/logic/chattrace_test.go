package logic_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/core-im/logic"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/tracing"
)

// chatStack is gateway, logic, a SQLite store and the in-process route table in one
// process, every layer traced into one embedded trace store, as `bangbang all` runs them.
type chatStack struct {
	tr     *tracing.Tracing
	tokens *auth.Tokens
	addr   string
}

func newChatStack(t *testing.T) *chatStack {
	t.Helper()
	ctx := context.Background()
	tr, err := tracing.Setup(ctx, tracing.Config{Process: "test", ChatSampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "im.db"), store.Options{TracerProvider: tr.Provider("logic")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for _, id := range []string{"ann", "bob"} {
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
	gws := &logic.LocalGateways{} // filled in once the gateway exists; read at push time
	svc := logic.New(logic.Config{TracerProvider: tr.Provider("logic")}, st, rt, gws, nil)
	t.Cleanup(svc.Close)
	gw, err := gateway.New(gateway.Config{TCPAddr: "127.0.0.1:0", WSAddr: gateway.Disabled, TracerProvider: tr.Provider("gateway")}, svc, tk, nil)
	if err != nil {
		t.Fatal(err)
	}
	gws.GW = gw
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Shutdown(context.Background()) })
	return &chatStack{tr: tr, tokens: tk, addr: gw.TCPAddr().String()}
}

func (c *chatStack) dial(t *testing.T, user string, tp trace.TracerProvider) *client.Client {
	t.Helper()
	tok, _, err := c.tokens.Issue(user, "customer")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.Dial(context.Background(), client.Config{Addr: c.addr, DeviceID: user + "-phone",
		Token: func(context.Context) (string, error) { return tok, nil }, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// TestChatMessageIsOneTrace sends a message from a traced SDK and checks its trace: the
// SDK's span, then the sender's gateway, logic, the store, and the push to the recipient's
// gateway, each the child of the one before, and the ack naming the trace.
func TestChatMessageIsOneTrace(t *testing.T) {
	c := newChatStack(t)
	bob := c.dial(t, "bob", nil)
	ann := c.dial(t, "ann", c.tr.Provider("im-client"))

	res, err := ann.Send(context.Background(), "bob", "text/plain", []byte("is the flat still free?"))
	if err != nil {
		t.Fatal(err)
	}
	got := <-bob.Messages()
	if got.ClientMsgID == "" || string(got.Body) != "is the flat still free?" {
		t.Fatalf("bob got %+v", got)
	}
	id, err := trace.TraceIDFromHex(res.TraceID)
	if err != nil {
		t.Fatalf("ack trace id %q: %v", res.TraceID, err)
	}
	// The push's spans end after the recipient may already hold the message, and the
	// gateway's request span (the root's child) may end after them: wait for the push to
	// bob and for the tree to be whole.
	tr := waitTrace(t, c.tr.Store(), id, func(tr *tracing.Trace) bool {
		return find(tr.Spans, "logic.push", "bob") != nil && len(tr.Spans) == 1
	})

	if len(tr.Spans) != 1 {
		t.Fatalf("trace has %d top-level spans, want one root: %s", len(tr.Spans), dump(tr.Spans))
	}
	sdk := tr.Spans[0]
	expect(t, sdk, "im-client", "IM SEND", "client")
	gwSpan := only(t, sdk, "IM SEND")
	expect(t, gwSpan, "gateway", "IM SEND", "server")
	if gwSpan.Attributes["bangbang.user"] != "ann" {
		t.Errorf("gateway span user = %v, want ann", gwSpan.Attributes["bangbang.user"])
	}
	send := only(t, gwSpan, "logic.Send")
	expect(t, send, "logic", "logic.Send", "internal")
	app := only(t, send, "store.Append")
	expect(t, app, "logic", "store.Append", "client")
	if len(app.Events) != 1 || app.Events[0].Name != "store.batch_committed" {
		t.Errorf("store.Append events = %+v, want the batch commit", app.Events)
	}
	push := find([]*tracing.Node{send}, "logic.push", "bob")
	if push == nil || push.ParentID != send.SpanID {
		t.Fatalf("no push to bob under logic.Send: %s", dump(tr.Spans))
	}
	deliver := only(t, push, "gateway.Deliver")
	expect(t, deliver, "gateway", "gateway.Deliver", "internal")
	if push.Attributes["bangbang.push.devices"] != float64(1) && push.Attributes["bangbang.push.devices"] != int64(1) {
		t.Errorf("push devices = %v (%T), want 1", push.Attributes["bangbang.push.devices"], push.Attributes["bangbang.push.devices"])
	}
}

// TestAckNamesAFreshTrace: a client sending no trace context still gets a trace id in its
// ack, the one the gateway started, so its bug report can name it.
func TestAckNamesAFreshTrace(t *testing.T) {
	c := newChatStack(t)
	ann := c.dial(t, "ann", nil)
	res, err := ann.Send(context.Background(), "bob", "text/plain", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := trace.TraceIDFromHex(res.TraceID)
	if err != nil {
		t.Fatalf("ack trace id %q: %v", res.TraceID, err)
	}
	// The gateway's span ends (and reaches the store) after logic's: wait for it, not for
	// the first span of the trace.
	tr := waitTrace(t, c.tr.Store(), id, func(tr *tracing.Trace) bool { return find(tr.Spans, "IM SEND", "") != nil })
	expect(t, tr.Spans[0], "gateway", "IM SEND", "server")
	if only(t, tr.Spans[0], "logic.Send") == nil {
		t.Fatal("no logic span")
	}
}

func waitTrace(t *testing.T, st *tracing.Store, id trace.TraceID, done func(*tracing.Trace) bool) *tracing.Trace {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tr, ok := st.Get(id)
		if ok && done(tr) {
			return tr
		}
		if time.Now().After(deadline) {
			if ok {
				t.Fatalf("trace %s incomplete: %s", id, dump(tr.Spans))
			}
			t.Fatalf("trace %s not in the store", id)
		}
		time.Sleep(time.Millisecond)
	}
}

// find returns the first span named name (and, when user is set, acting for it) in nodes
// and their descendants.
func find(nodes []*tracing.Node, name, user string) *tracing.Node {
	for _, n := range nodes {
		if n.Name == name && (user == "" || n.Attributes["bangbang.user"] == user) {
			return n
		}
		if f := find(n.Children, name, user); f != nil {
			return f
		}
	}
	return nil
}

// only returns parent's one child named name.
func only(t *testing.T, parent *tracing.Node, name string) *tracing.Node {
	t.Helper()
	var got []*tracing.Node
	for _, c := range parent.Children {
		if c.Name == name {
			got = append(got, c)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%s %s has %d children named %s, want 1: %s", parent.Service, parent.Name, len(got), name, dump([]*tracing.Node{parent}))
	}
	return got[0]
}

func expect(t *testing.T, n *tracing.Node, service, name, kind string) {
	t.Helper()
	if n.Service != service || n.Name != name || n.Kind != kind {
		t.Errorf("span = %s %s (%s), want %s %s (%s)", n.Service, n.Name, n.Kind, service, name, kind)
	}
}

func dump(nodes []*tracing.Node) string {
	var b strings.Builder
	var walk func([]*tracing.Node, string)
	walk = func(ns []*tracing.Node, indent string) {
		for _, n := range ns {
			fmt.Fprintf(&b, "\n%s%s %s (%s) %v", indent, n.Service, n.Name, n.Kind, n.Attributes)
			walk(n.Children, indent+"  ")
		}
	}
	walk(nodes, "")
	return b.String()
}
