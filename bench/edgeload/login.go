package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// login signs every merchant in on the edge (POST /v1/login) and returns their tokens.
func login(ctx context.Context, hc *http.Client, edge, password string, merchants []string) (map[string]string, error) {
	tokens := make(map[string]string, len(merchants))
	for _, m := range merchants {
		t, err := loginOne(ctx, hc, strings.TrimRight(edge, "/")+"/v1/login", m, password)
		if err != nil {
			return nil, err
		}
		tokens[m] = t
	}
	return tokens, nil
}

func loginOne(ctx context.Context, hc *http.Client, url, user, password string) (string, error) {
	body, err := json.Marshal(map[string]string{"user_id": user, "password": password})
	if err != nil {
		return "", fmt.Errorf("login %s: %w", user, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("login %s: %w", user, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("login %s: %w", user, err)
	}
	raw, err := readAnswer(resp.Body)
	if err != nil {
		return "", fmt.Errorf("login %s: %w", user, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", &LoginError{User: user, Status: resp.StatusCode, Body: string(raw[:min(len(raw), 256)])}
	}
	var lr struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(raw, &lr); err != nil {
		return "", fmt.Errorf("login %s: decode: %w", user, err)
	}
	if lr.Token == "" {
		return "", &LoginError{User: user, Status: resp.StatusCode, Body: "no token in the answer"}
	}
	return lr.Token, nil
}

// demoMerchants are the seeded merchants m1001… , n of them.
func demoMerchants(n int) []string {
	ms := make([]string, n)
	for i := range ms {
		ms[i] = fmt.Sprintf("m%d", 1001+i)
	}
	return ms
}
