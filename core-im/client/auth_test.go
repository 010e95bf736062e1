package client

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

func TestDialAuthenticates(t *testing.T) {
	s := newTestServer(t)
	cfg := testConfig(t, s)
	c := dial(t, cfg)

	if got := c.UserID(); got != "u1" {
		t.Errorf("UserID = %q, want u1", got)
	}
	ev := waitEvent(t, c, EventConnected)
	if ev.UserID != "u1" || ev.SessionID != "s1" {
		t.Errorf("connected event = %+v", ev)
	}
	s.mu.Lock()
	req := s.auths[0]
	s.mu.Unlock()
	if req.Token != "tok" || req.DeviceId != "d1" || req.Platform != "cli" || req.ClientVersion == "" {
		t.Errorf("AUTH = %+v, want token tok, device d1, platform cli and a version", req)
	}
}

func TestDialAuthFailureIsTyped(t *testing.T) {
	s := newTestServer(t)
	s.onAuth = func(int, *frame.AuthRequest) protocol.Body {
		return &frame.Error{Code: int32(common.ErrorCode_TOKEN_INVALID), Message: "bad signature", TraceId: "abc"}
	}
	_, err := Dial(t.Context(), testConfig(t, s))
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("Dial error %v is not an *Error", err)
	}
	if se.Code != common.ErrorCode_TOKEN_INVALID || se.Message != "bad signature" || se.TraceID != "abc" || se.Temporary {
		t.Errorf("error = %+v", se)
	}
	if !errors.Is(err, &Error{Code: common.ErrorCode_TOKEN_INVALID}) {
		t.Errorf("errors.Is by code failed for %v", err)
	}
	if errors.Is(err, &Error{Code: common.ErrorCode_TOKEN_EXPIRED}) {
		t.Errorf("errors.Is matched another code for %v", err)
	}
}

func TestDialFailures(t *testing.T) {
	s := newTestServer(t)
	tokenErr := errors.New("no token")
	tests := []struct {
		name   string
		mutate func(*Config)
		want   error
	}{
		{"no addr", func(c *Config) { c.Addr = "" }, ErrInvalid},
		{"no token func", func(c *Config) { c.Token = nil }, ErrInvalid},
		{"device too long", func(c *Config) { c.DeviceID = string(make([]byte, 65)) }, ErrInvalid},
		{"negative last seq", func(c *Config) { c.LastSeq = -1 }, ErrInvalid},
		{"token error", func(c *Config) {
			c.Token = func(context.Context) (string, error) { return "", tokenErr }
		}, tokenErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, s)
			tt.mutate(&cfg)
			if _, err := Dial(t.Context(), cfg); !errors.Is(err, tt.want) {
				t.Errorf("Dial error = %v, want %v", err, tt.want)
			}
		})
	}
}

// An expired token is refreshed: Token is called again at every connection attempt.
func TestTokenRefreshedOnEveryAttempt(t *testing.T) {
	s := newTestServer(t)
	s.onAuth = func(n int, req *frame.AuthRequest) protocol.Body {
		if n == 2 {
			return &frame.Error{Code: int32(common.ErrorCode_TOKEN_EXPIRED), Message: "expired"}
		}
		return s.acceptAuth(n, req)
	}
	var calls atomic.Int32
	cfg := testConfig(t, s)
	cfg.Token = func(context.Context) (string, error) {
		return fmt.Sprintf("tok-%d", calls.Add(1)), nil
	}
	c := dial(t, cfg)
	s.accept().drop()
	s.accept() // the third connection, after the expired second one

	s.mu.Lock()
	var got []string
	for _, a := range s.auths {
		got = append(got, a.Token)
	}
	s.mu.Unlock()
	if fmt.Sprint(got) != "[tok-1 tok-2 tok-3]" {
		t.Errorf("tokens = %v, want [tok-1 tok-2 tok-3]", got)
	}
	ev := waitEvent(t, c, EventDisconnected) // the first connection's end
	if ev.Err == nil {
		t.Error("disconnected event without a cause")
	}
	ev = waitEvent(t, c, EventDisconnected) // the refused attempt
	if !errors.Is(ev.Err, &Error{Code: common.ErrorCode_TOKEN_EXPIRED}) {
		t.Errorf("second disconnect = %v, want TOKEN_EXPIRED", ev.Err)
	}
}

// A token for another user must not be used to resume this user's inbox.
func TestReconnectRejectsAnotherUser(t *testing.T) {
	s := newTestServer(t)
	s.onAuth = func(n int, req *frame.AuthRequest) protocol.Body {
		resp := s.acceptAuth(n, req).(*frame.AuthResponse)
		if n == 2 {
			resp.UserId = "u2"
		}
		return resp
	}
	c := dial(t, testConfig(t, s))
	first := s.accept()
	waitEvent(t, c, EventConnected)
	first.drop()
	s.accept() // the third connection: the second was refused by the client
	if c.UserID() != "u1" {
		t.Errorf("UserID = %q after reconnect, want u1", c.UserID())
	}
	for {
		ev := waitEvent(t, c, EventDisconnected)
		if errors.Is(ev.Err, ErrInvalid) {
			break
		}
	}
}
