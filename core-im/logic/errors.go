package logic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
)

// imError builds the error every LogicService method returns: its code crosses the wire.
func imError(code common.ErrorCode, format string, args ...any) *common.IMError {
	return &common.IMError{Code: int32(code), Message: fmt.Sprintf(format, args...),
		Temporary: code == common.ErrorCode_UNAVAILABLE}
}

// Code returns the ErrorCode of err when it is (or wraps) an *common.IMError, else INTERNAL.
func Code(err error) common.ErrorCode {
	var e *common.IMError
	if errors.As(err, &e) {
		return common.ErrorCode(e.Code)
	}
	return common.ErrorCode_INTERNAL
}

// internal logs the detail of a dependency failure and returns the sanitised error the
// caller sees: clients get a code and a fixed message, never a database's error text. A
// failure a retry may cure (the store or the route table unreachable, restarting, shutting
// down; a deadline) is UNAVAILABLE and temporary, so the SDK retries it with backoff; only
// what is left (a fault of ours) is INTERNAL.
func (s *Service) internal(ctx context.Context, op string, err error, attrs ...any) *common.IMError {
	switch {
	case errors.Is(err, store.ErrInvalid), errors.Is(err, router.ErrInvalid):
		return imError(common.ErrorCode_BAD_REQUEST, "%s: invalid request", op)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return imError(common.ErrorCode_UNAVAILABLE, "%s: deadline exceeded", op)
	case errors.Is(err, store.ErrClosed), errors.Is(err, router.ErrClosed):
		return imError(common.ErrorCode_UNAVAILABLE, "%s: shutting down", op)
	case store.Temporary(err) || router.Temporary(err):
		s.log.WarnContext(ctx, op+" failed: dependency unavailable", append(attrs, "err", err)...)
		return imError(common.ErrorCode_UNAVAILABLE, "%s: service unavailable, retry later", op)
	}
	s.log.ErrorContext(ctx, op+" failed", append(attrs, "err", err)...)
	return imError(common.ErrorCode_INTERNAL, "%s: internal error", op)
}

// storeError is internal for the batch calls, whose input the store may still refuse
// after the checks here (text that is not UTF-8, say): its InvalidError names the item
// ("users[3].DisplayName") and a fixed reason, both safe to tell the caller.
func (s *Service) storeError(ctx context.Context, op string, err error, attrs ...any) *common.IMError {
	var ie *store.InvalidError
	if errors.As(err, &ie) {
		return imError(common.ErrorCode_BAD_REQUEST, "%s: %s: %s", op, ie.Field, ie.Reason)
	}
	return s.internal(ctx, op, err, attrs...)
}

// logAttrs is a small helper so log lines carry the same keys everywhere.
func userAttrs(user, device string) []any {
	return []any{slog.String("user", user), slog.String("device", device)}
}
