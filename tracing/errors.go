package tracing

import "errors"

// Sentinel errors, matched with errors.Is; the returned errors wrap them with detail.
var (
	// ErrConfig is an invalid Config field or OTEL_* variable.
	ErrConfig = errors.New("tracing: invalid configuration")
	// ErrBadPayload is an OTLP request body that does not decode.
	ErrBadPayload = errors.New("tracing: bad OTLP payload")
	// ErrPayloadTooLarge is an OTLP request body over the ingest limit.
	ErrPayloadTooLarge = errors.New("tracing: OTLP payload too large")
	// ErrUnsupportedMedia is an OTLP request in an encoding the ingest does not read.
	ErrUnsupportedMedia = errors.New("tracing: unsupported OTLP media type")
)
