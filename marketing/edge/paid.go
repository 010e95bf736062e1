package edge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/marketing/idempotency"
)

// maxRequestIDLen is the longest requestId the WSDLs accept.
const maxRequestIDLen = 64

// settleTimeout bounds storing or releasing a key after the call, which runs
// even when the app has gone away: the outcome must be kept for its retry.
const settleTimeout = 2 * time.Second

// paid runs a paid action (promote, buy credits) at most once per
// Idempotency-Key and merchant, whichever edge process receives it: a replay
// gets the first answer and never reaches the third party. See the
// idempotency package for the protocol. call gets the requestId to send,
// under which the third party de-duplicates a retry after an unknown outcome.
func (s *Server) paid(ctx context.Context, c *app.RequestContext, op string, call func(ctx context.Context, requestID string) reply) {
	m := merchantOf(c)
	rid := c.GetString(requestIDKey)
	key := string(c.GetHeader("Idempotency-Key"))
	if key == "" {
		writeError(c, 400, CodeIdempotencyKeyRequired, "a paid action needs an Idempotency-Key header, unique per action")
		return
	}
	if len(key) > idempotency.MaxKeyLen || !printable(key) {
		writeError(c, 400, CodeBadRequest, "the Idempotency-Key must be 1..128 printable ASCII characters")
		return
	}
	// The path, not the route pattern: the same key for another listing is
	// another request.
	fp := idempotency.Fingerprint(string(c.Method()), string(c.Request.URI().Path()), m, c.Request.Body())
	rec, claimed, err := s.idem.Begin(ctx, m, key, fp, s.cfg.IdempotencyLease)
	switch {
	case errors.Is(err, idempotency.ErrInFlight):
		c.Header("Retry-After", "1")
		writeError(c, 409, CodeIdempotencyInFlight, "a request with this Idempotency-Key is still running; retry shortly")
		return
	case errors.Is(err, idempotency.ErrMismatch):
		writeError(c, 422, CodeIdempotencyKeyReused, "this Idempotency-Key was used for a different request")
		return
	case errors.Is(err, idempotency.ErrInvalidKey):
		writeError(c, 400, CodeBadRequest, "the Idempotency-Key must be 1..128 printable ASCII characters")
		return
	case err != nil:
		// Without a claim a replay could not be recognised: never call the
		// third party unprotected.
		s.log.ErrorContext(ctx, "idempotency begin", "request_id", rid, "merchant", m, "op", op, "err", err)
		writeError(c, 503, CodeUnavailable, "paid actions are unavailable right now; retry later")
		return
	case !claimed:
		c.Header("Idempotent-Replayed", "true")
		c.Data(rec.Status, rec.ContentType, rec.Body)
		c.Abort()
		return
	}

	r := call(ctx, soapRequestID(key))

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	if r.status < 500 {
		err = s.idem.Complete(sctx, m, key, idempotency.Record{Status: r.status, Body: r.body, ContentType: contentTypeJSON, Fingerprint: fp}, s.cfg.IdempotencyTTL)
		if err != nil && !errors.Is(err, idempotency.ErrNotClaimed) {
			s.log.ErrorContext(ctx, "idempotency complete", "request_id", rid, "merchant", m, "op", op, "err", err)
			// Release the key so a retry is not stuck behind the lease; it
			// calls again with the same requestId, which the third party
			// de-duplicates.
			if aerr := s.idem.Abort(sctx, m, key); aerr != nil {
				s.log.WarnContext(ctx, "idempotency abort", "request_id", rid, "merchant", m, "op", op, "err", aerr)
			}
		}
	} else if err := s.idem.Abort(sctx, m, key); err != nil {
		s.log.WarnContext(ctx, "idempotency abort", "request_id", rid, "merchant", m, "op", op, "err", err)
	}
	r.write(c)
}

// soapRequestID is the requestId a paid call carries: the key itself, as the
// app chose it, or, for a key longer than the WSDLs allow, its SHA-256 in hex
// (64 characters), so a retry with the same key still sends the same id.
func soapRequestID(key string) string {
	if len(key) <= maxRequestIDLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
