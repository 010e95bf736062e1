package tracing

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
)

// Config configures Setup. The zero value is usable: every field has a default.
type Config struct {
	// Process names the process in every resource (bangbang.process), e.g. "bangbang-all"
	// or "bangbang-gateway". "" means "bangbang".
	Process string
	// ChatSampleRatio is the share of chat root spans sampled, in [0, 1]. 0 means the
	// default 0.1; a negative value means none.
	ChatSampleRatio float64
	// ReadSampleRatio is the share of read-only marketing root spans (TrafficRead)
	// sampled, in [0, 1]. 0 means the default 0.1; a negative value means none.
	ReadSampleRatio float64
	// DropUnsampled makes spans of unsampled traces no-ops instead of recording them:
	// cheaper per span (see the benchmarks), but errors in unsampled traces are then lost.
	// false (the default) keeps them.
	DropUnsampled bool
	// StoreBytes bounds the embedded trace store's memory, approximately. 0 means
	// DefaultStoreBytes (64 MiB); a negative value disables the store.
	StoreBytes int64
	// Env reads the OTEL_* variables. nil means os.Getenv.
	Env func(string) string
	// Logger receives setup messages. nil means discard.
	Logger *slog.Logger
}

const (
	// DefaultChatSampleRatio is the chat share sampled when Config.ChatSampleRatio is 0.
	DefaultChatSampleRatio = 0.1
	// DefaultReadSampleRatio is the read share sampled when Config.ReadSampleRatio is 0.
	DefaultReadSampleRatio = 0.1
	// DefaultStoreBytes is the embedded store bound when Config.StoreBytes is 0.
	DefaultStoreBytes = 64 << 20
	defaultProcess    = "bangbang"
)

// withDefaults validates c and fills its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Process == "" {
		c.Process = defaultProcess
	}
	var err error
	if c.ChatSampleRatio, err = ratio("chat", c.ChatSampleRatio, DefaultChatSampleRatio); err != nil {
		return c, err
	}
	if c.ReadSampleRatio, err = ratio("read", c.ReadSampleRatio, DefaultReadSampleRatio); err != nil {
		return c, err
	}
	if c.StoreBytes == 0 {
		c.StoreBytes = DefaultStoreBytes
	}
	if c.Env == nil {
		c.Env = os.Getenv
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// env reads a variable through c.Env, trimmed as the specification asks.
func (c Config) env(name string) string { return strings.TrimSpace(c.Env(name)) }

// envSignal reads the traces-specific variable, falling back to the generic one.
func (c Config) envSignal(traces, generic string) string {
	if v := c.env(traces); v != "" {
		return v
	}
	return c.env(generic)
}

// ratio validates a sample ratio: 0 means def, a negative value none.
func ratio(what string, r, def float64) (float64, error) {
	switch {
	case math.IsNaN(r) || r > 1:
		return 0, fmt.Errorf("%s sample ratio %v outside [0, 1]: %w", what, r, ErrConfig)
	case r == 0:
		return def, nil
	case r < 0:
		return 0, nil
	}
	return r, nil
}
