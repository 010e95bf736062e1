package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/tracing"
)

// shutdownTimeout bounds a graceful stop; past it the process exits anyway.
const shutdownTimeout = 15 * time.Second

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	// Lines written inside a traced request carry its trace_id and span_id.
	return slog.New(tracing.LogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))), nil
}

// setupTracing builds the process's tracer providers (OTLP when OTEL_* variables say so,
// and the bounded embedded store) and registers their shutdown first, so it runs last and
// flushes every span the other components ended.
//
// c's ChatRatio and ReadRatio are the shares of chat and read-only marketing traces kept,
// 0 meaning none (nil c: the defaults). withStore keeps the
// embedded trace store: only a process serving the admin API (all, admin) has one, since
// nothing else could read it; the others export over OTLP when told where.
func setupTracing(ctx context.Context, process string, c *config, withStore bool, lc *lifecycle) (*tracing.Tracing, error) {
	cfg := tracing.Config{Process: process, Logger: lc.log.With("component", "tracing")}
	if c != nil {
		// tracing.Config's 0 means the default, a negative ratio none.
		cfg.ChatSampleRatio, cfg.ReadSampleRatio = noneIfZero(c.ChatRatio), noneIfZero(c.ReadRatio)
	}
	if !withStore {
		cfg.StoreBytes = -1
	}
	t, err := tracing.Setup(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	lc.add("tracing", t.Shutdown)
	return t, nil
}

// stopper is one running component's stop function.
type stopper struct {
	name string
	stop func(context.Context) error
}

// lifecycle stops components in reverse start order, components of one stage in parallel,
// under one deadline.
type lifecycle struct {
	log    *slog.Logger
	stages [][]stopper
}

func (l *lifecycle) add(name string, stop func(context.Context) error) {
	l.stages = append(l.stages, []stopper{{name, stop}})
}

func (l *lifecycle) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	for i := len(l.stages) - 1; i >= 0; i-- {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, s := range l.stages[i] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.stop(ctx); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("stop %s: %w", s.name, err))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

// serve runs one command: it starts components with start, which registers each one's stop
// with the lifecycle, waits for a signal, then stops them in reverse order. A start that
// fails stops what had started and returns its error.
func serve(ctx context.Context, name, level string, stderr io.Writer, start func(*lifecycle) error) error {
	log, err := newLogger(level, stderr)
	if err != nil {
		return err
	}
	lc := &lifecycle{log: log}
	err = start(lc)
	if err == nil {
		<-ctx.Done()
		log.Info(name + ": shutting down")
	}
	return joinStop(err, lc.shutdown())
}

func joinStop(runErr, stopErr error) error {
	if runErr != nil {
		return runErr
	}
	return stopErr
}

// openStore opens PostgreSQL when a URL is configured, else SQLite under the data dir,
// with opt's tracing and metrics.
func openStore(ctx context.Context, c *config, opt store.Options, log *slog.Logger) (store.Store, string, error) {
	opt.Logger = log
	if c.DatabaseURL != "" {
		st, err := store.OpenPostgres(ctx, c.DatabaseURL, opt)
		if err != nil {
			return nil, "", fmt.Errorf("open PostgreSQL store: %w", err)
		}
		return st, "postgres", nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(c.DataDir, "bangbang.db")
	st, err := store.OpenSQLite(ctx, path, opt)
	if err != nil {
		return nil, "", fmt.Errorf("open SQLite store %s: %w", path, err)
	}
	return st, "sqlite:" + path, nil
}

// openRedis connects to Redis when an address is configured (nil, nil when not); the client
// is shared by the route table, the rate limiter and the idempotency keys, and closed last.
func openRedis(ctx context.Context, c *config, lc *lifecycle) (*redis.Client, error) {
	if c.RedisAddr == "" {
		return nil, nil
	}
	if err := checkRedisPrefix(c.RedisPrefix); err != nil {
		return nil, err
	}
	rc, err := newRedisClient(c.RedisAddr)
	if err != nil {
		return nil, err
	}
	if err := rc.Ping(ctx).Err(); err != nil {
		_ = rc.Close()
		return nil, fmt.Errorf("redis %s: %w", redactRedis(c.RedisAddr), err)
	}
	lc.add("redis", func(context.Context) error { return rc.Close() })
	return rc, nil
}

// openRoutes opens the Redis route table when Redis is configured, else in-process.
func openRoutes(c *config, rc *redis.Client, lc *lifecycle) (router.Table, string) {
	var rt router.Table
	name := "memory"
	if rc != nil {
		rt, name = router.NewRedis(rc, router.RedisOptions{Prefix: c.redisKey("rt:")}), "redis"
	} else {
		rt = router.NewMemory(router.MemoryOptions{})
	}
	lc.add("routes", func(context.Context) error { return rt.Close() })
	return rt, name
}

// tokens builds the token signer. Without a configured secret one is generated once and
// kept in the data dir, so a restart keeps tokens valid; separate processes must share it
// (the same --data-dir or --token-secret).
func tokens(c *config) (*auth.Tokens, error) {
	secret := []byte(c.TokenSecret)
	if len(secret) == 0 {
		var err error
		if secret, err = loadOrCreateSecret(filepath.Join(c.DataDir, "token.secret")); err != nil {
			return nil, err
		}
	}
	t, err := auth.NewTokens(secret, c.TokenTTL, nil)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return t, nil
}

func loadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	s := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process won the race: use its secret
		return loadOrCreateSecret(path)
	}
	if err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(s + "\n"); err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	return []byte(s), nil
}

// dialable turns a listen address (":8800") into one a client on this host can dial.
func dialable(listen, host string) string {
	h, p, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if h == "" || h == "0.0.0.0" || h == "::" {
		h = host
	}
	return net.JoinHostPort(h, p)
}

// newRedisClient returns the client of a Redis at addr, as every process builds it. addr
// is host:port, or a URL (redis://[user:password@]host:port[/db], rediss:// for TLS)
// choosing a database and credentials.
//
// Context deadlines reach the socket: a hung Redis would otherwise cost go-redis's 5 s
// read timeout per call instead of the caller's deadline.
//
// No handshake extras that a plain Redis refuses: go-redis announces itself with CLIENT
// SETINFO (refused before 7.2) and asks for maintenance notifications with CLIENT
// MAINT_NOTIFICATIONS (a Redis Enterprise and Cloud feature, refused by open-source
// servers), on every new connection. The client shrugs the refusals off, but each is an
// error span inside the request that opened the connection, and errors are always kept:
// every new connection would keep a trace of nothing and flag a healthy request.
func newRedisClient(addr string) (*redis.Client, error) {
	opt := &redis.Options{Addr: addr}
	if strings.Contains(addr, "://") {
		var err error
		if opt, err = redis.ParseURL(addr); err != nil {
			return nil, fmt.Errorf("redis address %s: %w", redactRedis(addr), err)
		}
	}
	opt.ContextTimeoutEnabled = true
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(opt), nil
}

// redactRedis is addr fit for a log line or an error: a URL's password is replaced.
func redactRedis(addr string) string {
	if u, err := url.Parse(addr); err == nil && u.User != nil {
		return u.Redacted()
	}
	return addr
}

// noneIfZero turns a flag's ratio 0 (none) into tracing.Config's -1.
func noneIfZero(r float64) float64 {
	if r == 0 {
		return -1
	}
	return r
}
