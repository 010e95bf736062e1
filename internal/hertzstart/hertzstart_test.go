package hertzstart

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
)

// A Shutdown right after Start stops the server: Run returns and the port is free again.
// Waiting only for Hertz's running flag lost such a Shutdown now and then.
func TestShutdownRightAfterStart(t *testing.T) {
	for i := range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h := server.New(server.WithListener(ln), server.WithDisablePrintRoute(true), server.WithExitWaitTime(time.Millisecond))
		h.GET("/healthz", func(_ context.Context, c *app.RequestContext) { c.SetStatusCode(200) })
		done, err := Start(h, ln, "/healthz", nil, func(err error) { t.Errorf("run %d: %v", i, err) })
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		if !Answers(ln.Addr(), "/healthz", nil) {
			t.Fatalf("start %d returned before the server answers", i)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = h.Shutdown(ctx)
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatalf("shutdown %d right after start: the server did not stop", i)
		}
		cancel()
		if Answers(ln.Addr(), "/healthz", nil) {
			t.Fatalf("shutdown %d: the server still answers", i)
		}
	}
}

// Nothing listening, or something answering otherwise, is not an answer.
func TestAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\n\r\n"))
			c.Close()
		}
	}()
	if Answers(addr, "/healthz", nil) {
		t.Error("a 503 counted as an answer")
	}
	ln.Close()
	if Answers(addr, "/healthz", nil) {
		t.Error("a closed port counted as an answer")
	}
}
