package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// maxAnswer bounds any answer read, edge JSON or SOAP envelope: a week of stats is ~2 KiB.
const maxAnswer = 1 << 20

// newPool is the keep-alive connection pool of one phase, the same for the edge and the
// bare client: conns connections at most, all kept idle between calls. dials counts the
// connections opened, so the report shows keep-alive held (about one per goroutine).
func newPool(conns int, dials *atomic.Int64) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxConnsPerHost:     conns,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
	}
}

// keepAlive undoes gowsdl v0.5.0's Connection: close (it sets Close on every request, a
// TCP handshake per call) and reads each answer in full, bounded, so its connection goes
// back to the pool: what soap-clients/partner does under the edge, so that the bare phase
// compares the edge with the best a direct caller does, not with a handshake per call.
type keepAlive struct {
	base http.RoundTripper
}

func (k keepAlive) RoundTrip(req *http.Request) (*http.Response, error) {
	out := new(http.Request)
	*out = *req // a RoundTripper must not change the caller's request
	out.Close = false
	resp, err := k.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	body, err := readAnswer(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("soap answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// readAnswer reads and closes body, failing past maxAnswer bytes.
func readAnswer(body io.ReadCloser) ([]byte, error) {
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxAnswer+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxAnswer {
		return nil, fmt.Errorf("answer over %d bytes", maxAnswer)
	}
	return b, nil
}
