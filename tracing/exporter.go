package tracing

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// OTLP protocols, as OTEL_EXPORTER_OTLP_PROTOCOL names them.
const (
	protocolGRPC = "grpc"
	protocolHTTP = "http/protobuf"
)

// otlpSettings is the part of the OTEL_EXPORTER_OTLP_* variables read through Config.Env.
type otlpSettings struct {
	protocol    string
	endpoint    string // full URL the spans are sent to (for gRPC, its host and scheme)
	headers     map[string]string
	timeout     time.Duration // 0: the exporter's default
	compression bool
}

// otlpFromEnv reads the exporter settings; ok is false when no exporter is configured.
func otlpFromEnv(c Config) (s otlpSettings, ok bool, err error) {
	if strings.EqualFold(c.env("OTEL_SDK_DISABLED"), "true") {
		return s, false, nil // tracing is off (see Setup)
	}
	tracesEndpoint, endpoint := c.env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), c.env("OTEL_EXPORTER_OTLP_ENDPOINT")
	if tracesEndpoint == "" && endpoint == "" {
		return s, false, nil
	}
	s.protocol = c.envSignal("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	if s.protocol == "" {
		s.protocol = protocolHTTP
	}
	if s.protocol != protocolHTTP && s.protocol != protocolGRPC {
		return s, false, fmt.Errorf("OTLP protocol %q (want %s or %s): %w", s.protocol, protocolGRPC, protocolHTTP, ErrConfig)
	}
	s.endpoint = tracesEndpoint
	if s.endpoint == "" {
		s.endpoint = endpoint
		if s.protocol == protocolHTTP {
			// The generic endpoint is a base: the signal's path is appended (specification).
			if s.endpoint, err = url.JoinPath(endpoint, "v1/traces"); err != nil {
				return s, false, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %q: %w", endpoint, ErrConfig)
			}
		}
	}
	if u, err := url.Parse(s.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, false, fmt.Errorf("OTLP endpoint %q is not an http(s) URL: %w", s.endpoint, ErrConfig)
	}
	if s.headers, err = parseKeyValues(c.envSignal("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")); err != nil {
		return s, false, fmt.Errorf("OTLP headers: %w", err)
	}
	if v := c.envSignal("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			return s, false, fmt.Errorf("OTLP timeout %q is not a positive number of milliseconds: %w", v, ErrConfig)
		}
		s.timeout = time.Duration(ms) * time.Millisecond
	}
	switch v := c.envSignal("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"); v {
	case "", "none":
	case "gzip":
		s.compression = true
	default:
		return s, false, fmt.Errorf("OTLP compression %q (want gzip or none): %w", v, ErrConfig)
	}
	return s, true, nil
}

// newOTLPExporter builds the exporter. Neither protocol connects here: the first export
// does, so a collector that is down costs retries in the background, not a failed start.
func newOTLPExporter(ctx context.Context, s otlpSettings) (sdktrace.SpanExporter, error) {
	if s.protocol == protocolGRPC {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(s.endpoint)}
		if len(s.headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(s.headers))
		}
		if s.timeout > 0 {
			opts = append(opts, otlptracegrpc.WithTimeout(s.timeout))
		}
		if s.compression {
			opts = append(opts, otlptracegrpc.WithCompressor("gzip"))
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(s.endpoint)}
	if len(s.headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(s.headers))
	}
	if s.timeout > 0 {
		opts = append(opts, otlptracehttp.WithTimeout(s.timeout))
	}
	if s.compression {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	}
	return otlptracehttp.New(ctx, opts...)
}
