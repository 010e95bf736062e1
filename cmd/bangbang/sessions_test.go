package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// Sessions end when a merchant logs out or staff end them, on the real binary: a logout
// kicks (AUTH_REVOKED) the live IM session of that token only; staff revoking the
// merchant's sessions kicks the rest; a revoked token is refused at AUTH and on the edge.
func TestSessionsCanBeEnded(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	phoneLogin, err := login(ctx, s.edge, "m1016", "demo")
	if err != nil {
		t.Fatal(err)
	}
	tabletLogin, err := login(ctx, s.edge, "m1016", "demo")
	if err != nil {
		t.Fatal(err)
	}
	phone, tablet := dialWith(t, ctx, s, phoneLogin.Token, "phone"), dialWith(t, ctx, s, tabletLogin.Token, "tablet")

	if code, body := bearerPost(t, s.edge+"/v1/logout", phoneLogin.Token); code != 200 || !strings.Contains(body, `"im_sessions_closed":1`) {
		t.Fatalf("logout: %d %s", code, body)
	}
	wantRevoked(t, phone)
	// The tablet's session, of another token, is untouched: it still gets messages.
	sender := dialUser(t, ctx, s, "c1016", "phone")
	if _, err := sender.Send(ctx, "m1016", "text/plain", []byte("still there?")); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, receiveFrom(t, tablet, "c1016", 1), "still there?")
	if code, _ := bearerPost(t, s.edge+"/v1/logout", phoneLogin.Token); code != 401 {
		t.Fatalf("the logged-out token on the edge: %d, want 401", code)
	}
	r := dialRaw(t, s.imAddr)
	r.write(protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: phoneLogin.Token, DeviceId: "phone", Platform: "cli"}))
	r.expectError(common.ErrorCode_TOKEN_INVALID)

	// Staff end the merchant's remaining sessions.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.admin+"/admin/v1/merchants/m1016/revoke-sessions", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Closed int `json:"im_sessions_closed"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil || out.Closed != 1 {
		t.Fatalf("revoke-sessions: %d %+v %v", resp.StatusCode, out, err)
	}
	wantRevoked(t, tablet)
	if code, _ := bearerPost(t, s.edge+"/v1/logout", tabletLogin.Token); code != 401 {
		t.Fatalf("a revoked token on the edge: %d, want 401", code)
	}
	// A fresh login works.
	if _, err := login(ctx, s.edge, "m1016", "demo"); err != nil {
		t.Fatalf("login after the revocation: %v", err)
	}
}

func dialWith(t *testing.T, ctx context.Context, s system, token, device string) *client.Client {
	t.Helper()
	c, err := client.Dial(ctx, client.Config{Addr: s.imAddr, DeviceID: device,
		Token:        func(context.Context) (string, error) { return token, nil },
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("device", device)})
	if err != nil {
		t.Fatalf("dial %s: %v", device, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantRevoked waits for the client to stop, kicked with AUTH_REVOKED.
func wantRevoked(t *testing.T, c *client.Client) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case _, ok := <-c.Messages():
			if ok {
				continue
			}
			if err := c.Err(); !errors.Is(err, client.ErrKicked) || !strings.Contains(err.Error(), "AUTH_REVOKED") {
				t.Fatalf("client stopped with %v, want a KICK AUTH_REVOKED", err)
			}
			return
		case <-deadline:
			t.Fatal("the session was not ended within 20s")
		}
	}
}

func bearerPost(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Tokens that live 3 s, on the real binary: an SDK client whose Token func logs in again
// keeps one connection across three lifetimes (it renews with AUTH in place), while a raw
// client that never renews is closed with ERROR TOKEN_EXPIRED when its token expires.
func TestSessionsLiveAsLongAsTheirTokens(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, []string{"BANGBANG_TOKEN_TTL=3s"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	lr, err := login(ctx, s.edge, "m1017", "demo")
	if err != nil {
		t.Fatal(err)
	}
	raw := dialRaw(t, s.imAddr)
	_ = raw.nc.SetDeadline(time.Now().Add(20 * time.Second))
	raw.write(protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: lr.Token, DeviceId: "raw", Platform: "cli"}))
	if f, err := raw.rd.Next(); err != nil || f.Op != protocol.OpAuthOK {
		t.Fatalf("raw AUTH: %v %v", f.Op, err)
	}

	c, err := client.Dial(ctx, client.Config{Addr: s.imAddr, DeviceID: "phone",
		Token: func(ctx context.Context) (string, error) {
			lr, err := login(ctx, s.edge, "m1017", "demo")
			return lr.Token, err
		},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The raw client, which never renews, is closed at its token's expiry.
	raw.expectError(common.ErrorCode_TOKEN_EXPIRED)
	raw.expectClosed()

	// Three lifetimes later the SDK client is still on its first connection.
	end := time.Now().Add(9 * time.Second)
	connects := 0
	for time.Now().Before(end) {
		select {
		case ev := <-c.Events():
			if ev.Kind == client.EventConnected {
				connects++
			}
			if ev.Kind == client.EventDisconnected {
				t.Fatalf("the SDK client was disconnected: %v", ev.Err)
			}
		case <-time.After(time.Until(end)):
		}
	}
	if connects > 1 {
		t.Fatalf("%d connections in three token lifetimes, want the first only", connects)
	}
	sender := dialUser(t, ctx, s, "c1017", "phone")
	if _, err := sender.Send(ctx, "m1017", "text/plain", []byte("after three lifetimes")); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, receiveFrom(t, c, "c1017", 1), "after three lifetimes")
}
