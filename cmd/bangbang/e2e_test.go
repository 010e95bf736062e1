package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/client"
)

// system is one running bangbang deployment as its users see it.
type system struct {
	edge   string // base URL
	imAddr string
	admin  string // base URL of the staff API, whose key is testAdminKey
}

const testAdminKey = "bbk_test_admin_key_0123456789"

func dialUser(t *testing.T, ctx context.Context, s system, user, device string) *client.Client {
	t.Helper()
	lr, err := login(ctx, s.edge, user, "demo")
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	if lr.IM.TCP != s.imAddr {
		t.Fatalf("login names IM address %q, want %q", lr.IM.TCP, s.imAddr)
	}
	c, err := client.Dial(ctx, client.Config{
		Addr:         lr.IM.TCP,
		DeviceID:     device,
		Token:        func(ctx context.Context) (string, error) { return lr.Token, nil },
		ReconnectMin: 50 * time.Millisecond,
		ReconnectMax: 500 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("client", user+"/"+device),
	})
	if err != nil {
		t.Fatalf("dial %s/%s: %v", user, device, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testWriter sends a client's log to the test log, shown when the test fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// receive waits for n messages or fails at the deadline.
func receive(t *testing.T, c *client.Client, n int) []client.Message {
	t.Helper()
	var got []client.Message
	deadline := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				t.Fatalf("%s: messages closed after %d of %d: %v", c.UserID(), len(got), n, c.Err())
			}
			got = append(got, m)
		case <-deadline:
			t.Fatalf("%s: %d of %d messages after 20s", c.UserID(), len(got), n)
		}
	}
	return got
}

// receiveFrom waits for n messages sent by from, skipping the user's own.
func receiveFrom(t *testing.T, c *client.Client, from string, n int) []client.Message {
	t.Helper()
	var got []client.Message
	for len(got) < n {
		for _, m := range receive(t, c, 1) {
			if m.From == from {
				got = append(got, m)
			}
		}
	}
	return got
}

func texts(ms []client.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Body)
	}
	return out
}

func wantTexts(t *testing.T, got []client.Message, want ...string) {
	t.Helper()
	if g := strings.Join(texts(got), ","); g != strings.Join(want, ",") {
		t.Fatalf("got messages [%s], want [%s]", g, strings.Join(want, ","))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq || got[i].ConvID == got[i-1].ConvID && got[i].ConvSeq != got[i-1].ConvSeq+1 {
			t.Fatalf("out of order or gap: %+v then %+v", got[i-1], got[i])
		}
	}
}

func startAllProc(t *testing.T, env []string) system {
	t.Helper()
	tcp, edgeAddr, adminAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	env = append(env, "BANGBANG_ADMIN_KEY="+testAdminKey)
	start(t, "all", env, []string{tcp, edgeAddr, adminAddr}, "all", "--demo", "--data-dir", t.TempDir(),
		"--tcp-addr", tcp, "--ws-addr", "-", "--edge-addr", edgeAddr, "--admin-addr", adminAddr,
		"--sim-housing-addr", freeAddr(t), "--sim-recruitment-addr", freeAddr(t), "--sim-account-addr", freeAddr(t))
	return system{edge: "http://" + edgeAddr, imAddr: tcp, admin: "http://" + adminAddr}
}

func TestAllOnSQLite(t *testing.T) {
	t.Parallel()
	chatSuite(t, startAllProc(t, nil))
}

func TestAllOnPostgres(t *testing.T) {
	t.Parallel()
	chatSuite(t, startAllProc(t, []string{"DATABASE_URL=" + pgSchema(t)}))
}

// chatSuite is what every deployment must do, whatever its stores.
func chatSuite(t *testing.T, s system) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if code := httpGet(t, s.edge+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}

	t.Run("two users chat", func(t *testing.T) {
		m, c := dialUser(t, ctx, s, "m1001", "phone"), dialUser(t, ctx, s, "c1001", "phone")
		for i := 1; i <= 3; i++ {
			res, err := m.Send(ctx, "c1001", "text/plain", []byte(fmt.Sprintf("hello %d", i)))
			if err != nil {
				t.Fatal(err)
			}
			if res.ConvSeq != int64(i) || res.MsgID == "" || res.Duplicate {
				t.Fatalf("ack %d: %+v", i, res)
			}
		}
		got := receiveFrom(t, c, "m1001", 3)
		wantTexts(t, got, "hello 1", "hello 2", "hello 3")
		if _, err := c.Send(ctx, "m1001", "text/plain", []byte("hi back")); err != nil {
			t.Fatal(err)
		}
		back := receiveFrom(t, m, "c1001", 1)
		wantTexts(t, back, "hi back")
		if back[0].ConvID != got[0].ConvID || back[0].ConvSeq != 4 {
			t.Fatalf("reply in conv %s seq %d, want %s seq 4", back[0].ConvID, back[0].ConvSeq, got[0].ConvID)
		}
	})

	t.Run("offline recipient gets everything in order", func(t *testing.T) {
		m := dialUser(t, ctx, s, "m1002", "phone")
		for i := 1; i <= 5; i++ {
			if _, err := m.Send(ctx, "c1002", "text/plain", []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		c := dialUser(t, ctx, s, "c1002", "phone")
		wantTexts(t, receiveFrom(t, c, "m1002", 5), "1", "2", "3", "4", "5")
	})

	t.Run("every device of both users", func(t *testing.T) {
		c1, c2 := dialUser(t, ctx, s, "c1003", "phone"), dialUser(t, ctx, s, "c1003", "tablet")
		m1, m2 := dialUser(t, ctx, s, "m1003", "phone"), dialUser(t, ctx, s, "m1003", "desktop")
		if _, err := m1.Send(ctx, "c1003", "text/plain", []byte("to all devices")); err != nil {
			t.Fatal(err)
		}
		wantTexts(t, receive(t, c1, 1), "to all devices")
		wantTexts(t, receive(t, c2, 1), "to all devices")
		// The sender's other device sees the conversation too; the sending one has its ack.
		wantTexts(t, receive(t, m2, 1), "to all devices")
		if _, err := m1.Send(ctx, "c1003", "text/plain", []byte("second")); err != nil {
			t.Fatal(err)
		}
		wantTexts(t, receive(t, m2, 1), "second")
		// The sending device gets no push of its own messages; its SDK places the acked
		// sends in the inbox order, so both devices show the same history.
		own := receive(t, m1, 2)
		wantTexts(t, own, "to all devices", "second")
		if own[0].From != "m1003" {
			t.Fatalf("own message from %q", own[0].From)
		}
	})

	t.Run("resend with the same client id is stored once", func(t *testing.T) {
		m, c := dialUser(t, ctx, s, "m1004", "phone"), dialUser(t, ctx, s, "c1004", "phone")
		first, err := m.SendWithID(ctx, "order-42", "c1004", "text/plain", []byte("once"))
		if err != nil {
			t.Fatal(err)
		}
		again, err := m.SendWithID(ctx, "order-42", "c1004", "text/plain", []byte("once"))
		if err != nil {
			t.Fatal(err)
		}
		if !again.Duplicate || again.MsgID != first.MsgID || again.ConvSeq != first.ConvSeq {
			t.Fatalf("resend: first %+v, again %+v", first, again)
		}
		if _, err := m.Send(ctx, "c1004", "text/plain", []byte("marker")); err != nil {
			t.Fatal(err)
		}
		// The marker is conv seq 2: had the resend been stored, it would be 3 and the
		// receiver would see three messages before it.
		got := receiveFrom(t, c, "m1004", 2)
		wantTexts(t, got, "once", "marker")
		if got[1].ConvSeq != 2 {
			t.Fatalf("marker conv seq %d, want 2", got[1].ConvSeq)
		}
	})

	t.Run("wrong password and forged token are refused", func(t *testing.T) {
		if _, err := login(ctx, s.edge, "m1005", "nope"); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("wrong password: %v", err)
		}
		_, err := client.Dial(ctx, client.Config{Addr: s.imAddr, DeviceID: "x",
			Token: func(context.Context) (string, error) { return "forged.token.value", nil }})
		var ce *client.Error
		if err == nil || !errorsAs(err, &ce) {
			t.Fatalf("forged token: %v", err)
		}
	})
}
