package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/bangbang-im/bangbang/internal/buildinfo"
)

// processResource describes the process: host, runtime, pid, the build (service.version),
// one service.instance.id for all its components, Config.Process and
// OTEL_RESOURCE_ATTRIBUTES.
func processResource(ctx context.Context, c Config) (*resource.Resource, error) {
	extra, err := parseKeyValues(c.env("OTEL_RESOURCE_ATTRIBUTES"))
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	attrs := make([]attribute.KeyValue, 0, len(extra)+3)
	for k, v := range extra {
		attrs = append(attrs, attribute.String(k, v))
	}
	attrs = append(attrs,
		semconv.ServiceNamespaceKey.String(Namespace),
		semconv.ServiceVersionKey.String(buildinfo.Read().Version),
		semconv.ServiceInstanceIDKey.String(uuid.NewString()),
		attrProcess.String(c.Process),
	)
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessPID(),
		resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		resource.WithAttributes(attrs...),
	)
	// A detector that fails (no hostname, say) leaves a partial resource: still useful.
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("detect resource: %w", err)
	}
	return res, nil
}

// componentResource is the process resource named for one component.
func componentResource(process *resource.Resource, component string) *resource.Resource {
	named := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceNameKey.String(component))
	res, err := resource.Merge(process, named)
	if err != nil {
		// Both carry the same schema URL, the only cause of a merge error.
		return process
	}
	return res
}

// parseKeyValues reads the OTEL_*_HEADERS / OTEL_RESOURCE_ATTRIBUTES format:
// comma-separated key=value pairs, values percent-encoded.
func parseKeyValues(s string) (map[string]string, error) {
	out := make(map[string]string)
	if s == "" {
		return out, nil
	}
	for pair := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value: %w", pair, ErrConfig)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", k, ErrConfig)
		}
		out[k] = dv
	}
	return out, nil
}
