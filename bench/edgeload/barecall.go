package main

import (
	"context"
	"net/http"

	"github.com/hooklift/gowsdl/soap"
)

// bareClient calls the action with the generated port straight to the simulator: SOAP
// marshalling, HTTP Basic credentials, one pooled keep-alive connection per goroutine,
// SOAP unmarshalling, and nothing else. Goroutine i acts as merchant i mod len(merchants).
type bareClient struct {
	do        func(ctx context.Context, merchant string) error
	merchants []string
}

func newBareClient(hc *http.Client, endpoint, partnerID, partnerKey string, act action, merchants []string) *bareClient {
	c := soap.NewClient(endpoint, soap.WithHTTPClient(hc), soap.WithBasicAuth(partnerID, partnerKey))
	return &bareClient{do: act.Bare(c), merchants: merchants}
}

func (b *bareClient) call(ctx context.Context, worker int) error {
	return b.do(ctx, b.merchants[worker%len(b.merchants)])
}
