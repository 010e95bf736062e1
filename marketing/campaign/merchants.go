package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

const merchantColumns = `id, name, city, category, tags, created_at, updated_at`

func scanMerchant(row interface{ Scan(...any) error }) (Merchant, error) {
	var m Merchant
	var tags string
	var created, updated int64
	if err := row.Scan(&m.ID, &m.Name, &m.City, &m.Category, &tags, &created, &updated); err != nil {
		return Merchant{}, err
	}
	m.Tags, m.CreatedAt, m.UpdatedAt = splitTags(tags), fromMS(created), fromMS(updated)
	return m, nil
}

// joinTags stores tags as ",a,b,": "has tag x" is then LIKE '%,x,%' on both dialects.
func joinTags(tags []string) string {
	if len(tags) == 0 {
		return ","
	}
	return "," + strings.Join(tags, ",") + ","
}

func splitTags(s string) []string {
	s = strings.Trim(s, ",")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// CreateMerchant validates m and stores it; an existing (or deleted) id is ErrConflict.
func (s *Store) CreateMerchant(ctx context.Context, a Actor, m Merchant) (Merchant, error) {
	if err := ValidateMerchant(&m); err != nil {
		return Merchant{}, err
	}
	now := fromMS(ms(s.now()))
	m.CreatedAt, m.UpdatedAt = now, now
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO merchants (`+merchantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			m.ID, m.Name, m.City, m.Category, joinTags(m.Tags), ms(now), ms(now))
		if isUnique(err) {
			return ErrConflict
		}
		if err != nil {
			return s.wrap("create merchant", err)
		}
		return s.audit(ctx, tx, a, "merchant.create", "merchant:"+m.ID, nil, m)
	})
	if err != nil {
		return Merchant{}, err
	}
	return m, nil
}

// UpdateMerchant replaces the attributes of merchant m.ID.
func (s *Store) UpdateMerchant(ctx context.Context, a Actor, m Merchant) (Merchant, error) {
	if err := ValidateMerchant(&m); err != nil {
		return Merchant{}, err
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.getMerchant(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		m.CreatedAt, m.UpdatedAt = before.CreatedAt, fromMS(ms(s.now()))
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE merchants SET name = ?, city = ?, category = ?, tags = ?, updated_at = ? WHERE id = ?`),
			m.Name, m.City, m.Category, joinTags(m.Tags), ms(m.UpdatedAt), m.ID); err != nil {
			return s.wrap("update merchant", err)
		}
		return s.audit(ctx, tx, a, "merchant.update", "merchant:"+m.ID, before, m)
	})
	if err != nil {
		return Merchant{}, err
	}
	return m, nil
}

// DeleteMerchant removes merchant id from the audience. The row stays, marked deleted, so
// a campaign whose audience was fixed before counts it as skipped; the id cannot be reused.
func (s *Store) DeleteMerchant(ctx context.Context, a Actor, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.getMerchant(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE merchants SET deleted_at = ? WHERE id = ?`), ms(s.now()), id); err != nil {
			return s.wrap("delete merchant", err)
		}
		return s.audit(ctx, tx, a, "merchant.delete", "merchant:"+id, before, nil)
	})
}

// GetMerchant returns merchant id; a deleted or unknown one is ErrNotFound.
func (s *Store) GetMerchant(ctx context.Context, id string) (Merchant, error) {
	return s.getMerchant(ctx, s.db, id)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) getMerchant(ctx context.Context, q querier, id string) (Merchant, error) {
	m, err := scanMerchant(q.QueryRowContext(ctx, s.q(`SELECT `+merchantColumns+` FROM merchants WHERE id = ? AND deleted_at IS NULL`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Merchant{}, ErrNotFound
	}
	if err != nil {
		return Merchant{}, s.wrap("merchant", err)
	}
	return m, nil
}

// ListMerchants returns live merchants matching q in id order.
func (s *Store) ListMerchants(ctx context.Context, q MerchantQuery) ([]Merchant, error) {
	if err := q.Segment.validate("segment"); err != nil {
		return nil, err
	}
	if len(q.Search) > MaxSearch {
		return nil, fieldErr("search", "at most %d bytes", MaxSearch)
	}
	where, args := s.segmentSQL(q.Segment)
	if q.Prefix != "" {
		where, args = append(where, "substr(id, 1, ?) = ?"), append(args, len(q.Prefix), q.Prefix)
	}
	if q.Search != "" {
		// Not indexed: a search reads the live merchants in id order until it has a page.
		like := "LIKE"
		if s.pg {
			like = "ILIKE" // SQLite's LIKE ignores the case of ASCII letters already
		}
		pat := "%" + likeEscaper.Replace(q.Search) + "%"
		where = append(where, "(id "+like+" ? ESCAPE '\\' OR name "+like+" ? ESCAPE '\\')")
		args = append(args, pat, pat)
	}
	if q.After != "" {
		where, args = append(where, "id > ?"), append(args, q.After)
	}
	args = append(args, clampLimit(q.Limit))
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+merchantColumns+` FROM merchants WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id LIMIT ?`), args...)
	if err != nil {
		return nil, s.wrap("list merchants", err)
	}
	defer rows.Close()
	list := []Merchant{}
	for rows.Next() {
		m, err := scanMerchant(rows)
		if err != nil {
			return nil, s.wrap("list merchants", err)
		}
		list = append(list, m)
	}
	return list, s.wrap("list merchants", rows.Err())
}

// MaxSearch is the longest text MerchantQuery.Search may hold.
const MaxSearch = 200

// likeEscaper makes text match itself in a LIKE pattern with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// segmentSQL is the WHERE clause (ANDed terms) selecting the live merchants of seg.
func (s *Store) segmentSQL(seg Segment) ([]string, []any) {
	where := []string{"deleted_at IS NULL"}
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("city", seg.Cities)
	in("category", seg.Categories)
	for _, t := range seg.Tags {
		where, args = append(where, "tags LIKE ?"), append(args, "%,"+t+",%")
	}
	return where, args
}

// audienceSQL selects the ids of aud's live merchants: the listed ones and the segment's.
func (s *Store) audienceSQL(aud Audience) (string, []any) {
	var parts []string
	var args []any
	if len(aud.MerchantIDs) > 0 {
		parts = append(parts, "id IN (SELECT value FROM "+s.jsonEach()+")")
		b := jsonStrings(aud.MerchantIDs)
		args = append(args, b)
	}
	if aud.Segment != nil && !aud.Segment.Empty() {
		w, a := s.segmentSQL(*aud.Segment)
		parts = append(parts, "("+strings.Join(w, " AND ")+")")
		args = append(args, a...)
	}
	if len(parts) == 0 {
		return "SELECT id FROM merchants WHERE 1 = 0", nil
	}
	return "SELECT id FROM merchants WHERE deleted_at IS NULL AND (" + strings.Join(parts, " OR ") + ")", args
}

// jsonEach is a table function over a JSON array of strings given as one parameter, with
// a column "value": the one spelling that differs between the dialects.
func (s *Store) jsonEach() string {
	if s.pg {
		return "jsonb_array_elements_text(?::jsonb) AS j(value)"
	}
	return "json_each(?) AS j"
}

// jsonRows is a table function over a JSON array given as one parameter, one row per
// element, read with elem.
func (s *Store) jsonRows() string {
	if s.pg {
		return "jsonb_array_elements(CAST(? AS jsonb)) AS v(value)"
	}
	return "json_each(?) AS v"
}

// elem reads a jsonRows row: element i of the row's array, or the row itself when i < 0,
// as SQL type typ (bigint, smallint or text).
func (s *Store) elem(i int, typ string) string {
	switch {
	case s.pg && i < 0:
		return "CAST(v.value #>> '{}' AS " + typ + ")"
	case s.pg:
		return fmt.Sprintf("CAST(v.value ->> %d AS %s)", i, typ)
	case i < 0:
		return "v.value"
	default:
		return fmt.Sprintf("json_extract(v.value, '$[%d]')", i)
	}
}

// CountAudience counts the live merchants aud reaches now.
func (s *Store) CountAudience(ctx context.Context, aud Audience) (int64, error) {
	if err := aud.validate(); err != nil {
		return 0, err
	}
	query, args := s.audienceSQL(aud)
	var n int64
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT count(*) FROM (`+query+`) a`), args...).Scan(&n); err != nil {
		return 0, s.wrap("count audience", err)
	}
	return n, nil
}

// UnknownMerchants returns the ids of ids that are no live merchant, in input order.
func (s *Store) UnknownMerchants(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT j.value FROM `+s.jsonEach()+
		` WHERE NOT EXISTS (SELECT 1 FROM merchants m WHERE m.id = j.value AND m.deleted_at IS NULL)`), jsonStrings(ids))
	if err != nil {
		return nil, s.wrap("unknown merchants", err)
	}
	defer rows.Close()
	var unknown []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap("unknown merchants", err)
		}
		unknown = append(unknown, id)
	}
	return unknown, s.wrap("unknown merchants", rows.Err())
}

// UpsertMerchants writes one import batch in one transaction: new ids are created, live
// ones replaced, deleted ones brought back. The caller validated every row
// (ValidateMerchant) and made ids unique within the batch. No audit entry per row: the
// import writes one for the whole file.
func (s *Store) UpsertMerchants(ctx context.Context, ms_ []Merchant) (created, updated int, err error) {
	if len(ms_) == 0 {
		return 0, 0, nil
	}
	now := ms(s.now())
	err = s.tx(ctx, func(tx *sql.Tx) error {
		// Which exist decides created vs updated; the batch is bounded (the importer's 1000).
		ids := make([]string, len(ms_))
		for i, m := range ms_ {
			ids[i] = m.ID
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT count(*) FROM merchants WHERE id IN (SELECT value FROM `+s.jsonEach()+`)`), jsonStrings(ids))
		if err != nil {
			return s.wrap("upsert merchants", err)
		}
		var existing int
		for rows.Next() {
			if err := rows.Scan(&existing); err != nil {
				rows.Close()
				return s.wrap("upsert merchants", err)
			}
		}
		rows.Close()
		const cols = 7
		const chunk = 500 // rows per statement: 3,500 parameters, under both dialects' limits
		for start := 0; start < len(ms_); start += chunk {
			part := ms_[start:min(start+chunk, len(ms_))]
			var b strings.Builder
			b.WriteString(`INSERT INTO merchants (` + merchantColumns + `) VALUES `)
			args := make([]any, 0, len(part)*cols)
			for i, m := range part {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
				args = append(args, m.ID, m.Name, m.City, m.Category, joinTags(m.Tags), now, now)
			}
			b.WriteString(` ON CONFLICT (id) DO UPDATE SET name = excluded.name, city = excluded.city,
category = excluded.category, tags = excluded.tags, updated_at = excluded.updated_at, deleted_at = NULL`)
			if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
				return s.wrap("upsert merchants", err)
			}
		}
		created, updated = len(ms_)-existing, existing
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return created, updated, nil
}

func jsonStrings(v []string) string {
	b, _ := json.Marshal(v) // strings always marshal
	return string(b)
}
