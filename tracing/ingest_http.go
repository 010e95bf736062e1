package tracing

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// MaxIngestBody bounds an OTLP request body, after decompression.
const MaxIngestBody = 4 << 20

const contentTypeProtobuf = "application/x-protobuf"

// IngestHandler serves OTLP/HTTP with protobuf encoding (POST /v1/traces, optionally
// gzip-compressed), so other processes can point their exporter at this store. It
// answers 400 to a body that does not decode, 413 over MaxIngestBody, 415 to another
// encoding (OTLP/JSON is not read), and 200 with an ExportTraceServiceResponse
// carrying the count of rejected spans otherwise.
func (s *Store) IngestHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		req, err := DecodeExportRequest(w, r)
		if err != nil {
			status, count := http.StatusBadRequest, &s.refusedPayload
			switch {
			case errors.Is(err, ErrPayloadTooLarge):
				status, count = http.StatusRequestEntityTooLarge, &s.refusedTooLarge
			case errors.Is(err, ErrUnsupportedMedia):
				status, count = http.StatusUnsupportedMediaType, &s.refusedMedia
			}
			s.mu.Lock()
			*count++
			s.mu.Unlock()
			http.Error(w, err.Error(), status)
			return
		}
		_, rejected := s.Ingest(req)
		resp := &coltracepb.ExportTraceServiceResponse{}
		if rejected > 0 {
			resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{
				RejectedSpans: int64(rejected),
				ErrorMessage:  "spans without a valid trace or span id",
			}
		}
		b, err := proto.Marshal(resp)
		if err != nil {
			http.Error(w, "encode response", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentTypeProtobuf)
		_, _ = w.Write(b)
	})
	return mux
}

// DecodeExportRequest reads an OTLP/HTTP protobuf export request from r, within
// MaxIngestBody (w lets the server close a connection sending too much). Its errors wrap
// ErrUnsupportedMedia, ErrPayloadTooLarge or ErrBadPayload.
func DecodeExportRequest(w http.ResponseWriter, r *http.Request) (*coltracepb.ExportTraceServiceRequest, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != contentTypeProtobuf {
		return nil, fmt.Errorf("content type %q, want %s: %w", r.Header.Get("Content-Type"), contentTypeProtobuf, ErrUnsupportedMedia)
	}
	body := http.MaxBytesReader(w, r.Body, MaxIngestBody)
	var src io.Reader = body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, decodeError("gzip header", err)
		}
		defer zr.Close()
		// +1 so that a body of exactly the limit is told from one over it.
		src = io.LimitReader(zr, MaxIngestBody+1)
	default:
		return nil, fmt.Errorf("content encoding %q: %w", enc, ErrUnsupportedMedia)
	}
	b, err := io.ReadAll(src)
	if err != nil {
		return nil, decodeError("read body", err)
	}
	if len(b) > MaxIngestBody {
		return nil, fmt.Errorf("body over %d bytes: %w", MaxIngestBody, ErrPayloadTooLarge)
	}
	req := &coltracepb.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(b, req); err != nil {
		return nil, decodeError("decode protobuf", err)
	}
	return req, nil
}

func decodeError(what string, err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return fmt.Errorf("body over %d bytes: %w", MaxIngestBody, ErrPayloadTooLarge)
	}
	return fmt.Errorf("%s: %w: %w", what, ErrBadPayload, err)
}
