package campaign

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
)

// KeyPrefix starts every staff key secret, so a leaked one is easy to grep for.
const KeyPrefix = "bbk_"

// CreateKey stores a new key of role and returns it with its secret, which is shown
// this once: only its SHA-256 is kept.
func (s *Store) CreateKey(ctx context.Context, a Actor, name string, role Role) (Key, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "" || len(name) > MaxNameBytes:
		return Key{}, "", fieldErr("name", "1..%d bytes", MaxNameBytes)
	case !role.Valid():
		return Key{}, "", fieldErr("role", "must be viewer, author, sender or admin")
	}
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	secret := KeyPrefix + hex.EncodeToString(raw[:])
	h := sha256.Sum256([]byte(secret))
	k := Key{ID: newID("key_"), Name: name, Role: role, Prefix: secret[:len(KeyPrefix)+6], CreatedAt: fromMS(ms(s.now())), CreatedBy: a.KeyID}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO staff_keys (id, name, role, hash, prefix, created_at, created_by)
VALUES (?, ?, ?, ?, ?, ?, ?)`), k.ID, k.Name, string(k.Role), h[:], k.Prefix, ms(k.CreatedAt), k.CreatedBy); err != nil {
			return s.wrap("create key", err)
		}
		return s.audit(ctx, tx, a, "key.create", "key:"+k.ID, nil, k)
	})
	if err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

const keyColumns = `id, name, role, prefix, created_at, created_by, revoked_at`

func scanKey(row interface{ Scan(...any) error }) (Key, error) {
	var k Key
	var role string
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.Name, &role, &k.Prefix, &created, &k.CreatedBy, &revoked); err != nil {
		return Key{}, err
	}
	k.Role, k.CreatedAt, k.RevokedAt = Role(role), fromMS(created), fromNullMS(revoked)
	return k, nil
}

// KeyBySecret returns the live key whose secret this is; an unknown or revoked secret is
// ErrNotFound. The lookup is by the secret's SHA-256, so the secret never reaches the
// database and its comparison leaks nothing useful.
func (s *Store) KeyBySecret(ctx context.Context, secret string) (Key, error) {
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) > 128 {
		return Key{}, ErrNotFound
	}
	h := sha256.Sum256([]byte(secret))
	k, err := scanKey(s.db.QueryRowContext(ctx, s.q(`SELECT `+keyColumns+` FROM staff_keys WHERE hash = ? AND revoked_at IS NULL`), h[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, ErrNotFound
	}
	if err != nil {
		return Key{}, s.wrap("key", err)
	}
	return k, nil
}

// ListKeys returns every key, revoked ones included, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM staff_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, s.wrap("list keys", err)
	}
	defer rows.Close()
	keys := []Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, s.wrap("list keys", err)
		}
		keys = append(keys, k)
	}
	return keys, s.wrap("list keys", rows.Err())
}

// RevokeKey revokes key id at once; revoking it again changes nothing.
func (s *Store) RevokeKey(ctx context.Context, a Actor, id string) (Key, error) {
	var k Key
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := scanKey(tx.QueryRowContext(ctx, s.q(`SELECT `+keyColumns+` FROM staff_keys WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return s.wrap("revoke key", err)
		}
		k = before
		if before.RevokedAt != nil {
			return nil
		}
		now := fromMS(ms(s.now()))
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE staff_keys SET revoked_at = ? WHERE id = ?`), ms(now), id); err != nil {
			return s.wrap("revoke key", err)
		}
		k.RevokedAt = &now
		return s.audit(ctx, tx, a, "key.revoke", "key:"+id, before, k)
	})
	return k, err
}

// RecordAudit writes an audit entry for a change made outside the store's own methods
// (an import's summary).
func (s *Store) RecordAudit(ctx context.Context, a Actor, action, target string, before, after any) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.audit(ctx, tx, a, action, target, before, after) })
}

// Audit returns entries matching q, newest first.
func (s *Store) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	where := []string{"1 = 1"}
	var args []any
	if q.Target != "" {
		where, args = append(where, "target = ?"), append(args, q.Target)
	}
	if q.ActorID != "" {
		where, args = append(where, "actor_id = ?"), append(args, q.ActorID)
	}
	if prefix, ok := strings.CutSuffix(q.Action, "."); ok && prefix != "" {
		where, args = append(where, "substr(action, 1, ?) = ?"), append(args, len(q.Action), q.Action)
	} else if q.Action != "" {
		where, args = append(where, "action = ?"), append(args, q.Action)
	}
	if q.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, q.BeforeID)
	}
	args = append(args, clampLimit(q.Limit))
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, at, actor_id, actor_name, action, target, before, after, trace_id
FROM audit_log WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`), args...)
	if err != nil {
		return nil, s.wrap("audit", err)
	}
	defer rows.Close()
	entries := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		var before, after sql.NullString
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.ActorName, &e.Action, &e.Target, &before, &after, &e.TraceID); err != nil {
			return nil, s.wrap("audit", err)
		}
		e.At = fromMS(at)
		if before.Valid {
			e.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			e.After = json.RawMessage(after.String)
		}
		entries = append(entries, e)
	}
	return entries, s.wrap("audit", rows.Err())
}

func auditJSON(v any) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}
