package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
)

// loginLimit bounds the login response read: it is a token and two addresses.
const loginLimit = 64 << 10

type loginResult struct {
	Token string `json:"token"`
	IM    struct {
		TCP string `json:"tcp"`
	} `json:"im"`
}

// login signs user in on the edge (POST /v1/login) and returns its token and the IM TCP
// address the edge advertises.
func login(ctx context.Context, hc *http.Client, edge, user, password string) (loginResult, error) {
	body, err := json.Marshal(map[string]string{"user_id": user, "password": password})
	if err != nil {
		return loginResult{}, fmt.Errorf("login %s: %w", user, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(edge, "/")+"/v1/login", bytes.NewReader(body))
	if err != nil {
		return loginResult{}, fmt.Errorf("login %s: %w", user, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return loginResult{}, fmt.Errorf("login %s: %w", user, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, loginLimit))
	if err != nil {
		return loginResult{}, fmt.Errorf("login %s: %w", user, err)
	}
	if resp.StatusCode != http.StatusOK {
		return loginResult{}, &LoginError{User: user, Status: resp.StatusCode, Body: string(raw[:min(len(raw), 256)])}
	}
	var lr loginResult
	if err := json.Unmarshal(raw, &lr); err != nil {
		return loginResult{}, fmt.Errorf("login %s: decode: %w", user, err)
	}
	if lr.Token == "" {
		return loginResult{}, &LoginError{User: user, Status: resp.StatusCode, Body: "no token in the answer"}
	}
	return lr, nil
}

// loginAll logs every user in once: a token serves any number of that user's devices.
// The IM address is the one given, else the edge's.
func loginAll(ctx context.Context, edge, password string, users []string, addr string) (map[string]string, string, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	tokens := make(map[string]string, len(users))
	for _, u := range users {
		lr, err := login(ctx, hc, edge, u, password)
		if err != nil {
			return nil, "", err
		}
		tokens[u] = lr.Token
		if addr == "" {
			addr = lr.IM.TCP
		}
	}
	if addr == "" {
		return nil, "", fmt.Errorf("login: the edge advertises no IM TCP address and --addr is empty")
	}
	return tokens, addr, nil
}

// tokensFor returns a token per user and the IM address: issued with t.TokenSecret when
// set, else from the edge's login.
func (t target) tokensFor(ctx context.Context, users []string) (map[string]string, string, error) {
	if t.TokenSecret == "" {
		return loginAll(ctx, t.Edge, t.Password, users, t.Addr)
	}
	if t.Addr == "" {
		return nil, "", fmt.Errorf("--token-secret needs --addr")
	}
	tk, err := auth.NewTokens([]byte(t.TokenSecret), 24*time.Hour, nil)
	if err != nil {
		return nil, "", fmt.Errorf("token secret: %w", err)
	}
	tokens := make(map[string]string, len(users))
	for _, u := range users {
		kind := "customer"
		if strings.HasPrefix(u, "m") {
			kind = "merchant"
		}
		if tokens[u], _, err = tk.Issue(u, kind); err != nil {
			return nil, "", err
		}
	}
	return tokens, t.Addr, nil
}

// demoUsers are the seeded merchants (m1001…) and customers (c1001…), n of each.
func demoUsers(n int) (merchants, customers []string) { return demoUsersFrom(0, n) }

// demoUsersFrom are n seeded merchants and customers after the first offset.
func demoUsersFrom(offset, n int) (merchants, customers []string) {
	for i := range n {
		merchants = append(merchants, fmt.Sprintf("m%d", 1001+offset+i))
		customers = append(customers, fmt.Sprintf("c%d", 1001+offset+i))
	}
	return merchants, customers
}
