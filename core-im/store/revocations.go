package store

import (
	"context"
	"fmt"
	"time"
)

// Revocations are small and per user: a revocation of one token is purged after the
// token's expiry, so the table holds at most one row per live revoked token plus one
// cutoff per user who ever revoked all.

func checkRevocation(user, jti string) error {
	if err := checkID("user", user); err != nil {
		return err
	}
	if jti != "" {
		return checkID("jti", jti)
	}
	return nil
}

func (s *pgStore) RevokeTokens(ctx context.Context, user, jti string, until time.Time) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := checkRevocation(user, jti); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `
WITH purged AS (DELETE FROM token_revocations WHERE user_id = $1 AND jti <> '' AND at < $4)
INSERT INTO token_revocations (user_id, jti, at) VALUES ($1, $2, $3)
ON CONFLICT (user_id, jti) DO UPDATE SET at = GREATEST(token_revocations.at, EXCLUDED.at)`,
		user, jti, until.UnixMilli(), time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("revoke tokens of %s: %w", user, err)
	}
	return nil
}

func (s *pgStore) TokenRevoked(ctx context.Context, user, jti string, issued time.Time) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	if err := checkRevocation(user, jti); err != nil {
		return false, err
	}
	var revoked bool
	err := s.pool.QueryRow(ctx, `
SELECT EXISTS (SELECT 1 FROM token_revocations
               WHERE user_id = $1 AND ((jti = $2 AND $2 <> '') OR (jti = '' AND at > $3)))`,
		user, jti, issued.UnixMilli()).Scan(&revoked)
	if err != nil {
		return false, fmt.Errorf("token of %s revoked: %w", user, err)
	}
	return revoked, nil
}

func (s *sqliteStore) RevokeTokens(ctx context.Context, user, jti string, until time.Time) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := checkRevocation(user, jti); err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, `DELETE FROM token_revocations WHERE user_id = ? AND jti <> '' AND at < ?`,
		user, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("revoke tokens of %s: %w", user, err)
	}
	_, err := s.write.ExecContext(ctx, `
INSERT INTO token_revocations (user_id, jti, at) VALUES (?, ?, ?)
ON CONFLICT (user_id, jti) DO UPDATE SET at = max(at, excluded.at)`, user, jti, until.UnixMilli())
	if err != nil {
		return fmt.Errorf("revoke tokens of %s: %w", user, err)
	}
	return nil
}

func (s *sqliteStore) TokenRevoked(ctx context.Context, user, jti string, issued time.Time) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	if err := checkRevocation(user, jti); err != nil {
		return false, err
	}
	var revoked bool
	err := s.read.QueryRowContext(ctx, `
SELECT EXISTS (SELECT 1 FROM token_revocations
               WHERE user_id = ? AND ((jti = ? AND ? <> '') OR (jti = '' AND at > ?)))`,
		user, jti, jti, issued.UnixMilli()).Scan(&revoked)
	if err != nil {
		return false, fmt.Errorf("token of %s revoked: %w", user, err)
	}
	return revoked, nil
}
