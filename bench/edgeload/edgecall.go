package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// edgeClient calls the action through an edge, as an app does: GET with the merchant's
// bearer token on a keep-alive connection. Goroutine i acts as merchant i mod len(merchants).
type edgeClient struct {
	hc        *http.Client
	base      string
	act       action
	merchants []string
	auth      []string // "Bearer <token>", by merchant
	urls      []string // by merchant
}

func newEdgeClient(hc *http.Client, base string, act action, merchants []string, tokens map[string]string) *edgeClient {
	base = strings.TrimRight(base, "/")
	e := &edgeClient{hc: hc, base: base, act: act, merchants: merchants}
	for _, m := range merchants {
		e.auth = append(e.auth, "Bearer "+tokens[m])
		e.urls = append(e.urls, base+act.Path(m))
	}
	return e
}

func (e *edgeClient) call(ctx context.Context, worker int) error {
	i := worker % len(e.merchants)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.urls[i], nil)
	if err != nil {
		return fmt.Errorf("edge request: %w", err)
	}
	req.Header.Set("Authorization", e.auth[i])
	resp, err := e.hc.Do(req)
	if err != nil {
		return fmt.Errorf("edge %s: %w", e.act.Name, err)
	}
	body, err := readAnswer(resp.Body)
	if err != nil {
		return fmt.Errorf("edge %s: %w", e.act.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(body, &eb) // the status alone is enough when the body is not the API's
		return &HTTPError{Status: resp.StatusCode, Code: eb.Code}
	}
	return e.act.Check(e.merchants[i], body)
}
