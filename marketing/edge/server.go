package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/bangbang-im/bangbang/core-im/auth"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// Config of the edge server.
type Config struct {
	// Addr to listen on; "" means ":8700".
	Addr string
	// IMTCP and IMWS are what /v1/login tells clients to connect to, e.g.
	// "127.0.0.1:8800" and "ws://127.0.0.1:8801/ws".
	IMTCP, IMWS string
	// MaxBodyBytes bounds a request body; 0 means 64 KiB.
	MaxBodyBytes int
}

// Server is the edge HTTP server.
type Server struct {
	cfg    Config
	logic  logicgen.LogicService
	tokens *auth.Tokens
	log    *slog.Logger
	ln     net.Listener
	h      *server.Hertz
	done   chan struct{}
}

// New builds the server; Start binds it.
func New(cfg Config, logic logicgen.LogicService, tokens *auth.Tokens, logger *slog.Logger) *Server {
	if cfg.Addr == "" {
		cfg.Addr = ":8700"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, logic: logic, tokens: tokens, log: logger, done: make(chan struct{})}
}

// Start binds the listener and serves in the background until Shutdown.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("edge listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.h = server.New(
		server.WithListener(ln),
		server.WithMaxRequestBodySize(s.cfg.MaxBodyBytes),
		server.WithDisablePrintRoute(true),
		server.WithReadTimeout(10*time.Second),
		server.WithExitWaitTime(time.Second),
	)
	s.h.Use(requestID)
	s.h.GET("/healthz", s.healthz)
	s.h.POST("/v1/login", s.login)
	go func() {
		defer close(s.done)
		if err := s.h.Run(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("edge server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting and waits for in-flight requests, bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.h == nil {
		return nil
	}
	err := s.h.Shutdown(ctx)
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}

func (s *Server) healthz(ctx context.Context, c *app.RequestContext) {
	c.JSON(200, map[string]string{"status": "ok"})
}
