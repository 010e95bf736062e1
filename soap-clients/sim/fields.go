package sim

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// fields reads an operation's parameters from its element and keeps the first
// problem as an InvalidRequestFault naming the field, so each operation reads
// all its fields and checks one error.
type fields struct {
	el  *element
	f   faults
	err error
}

func (r *fields) fail(field, reason string) {
	if r.err == nil {
		r.err = r.f.invalid(field, reason)
	}
}

// str reads a string of at most maxLen characters; required means present and
// not empty.
func (r *fields) str(name string, required bool, maxLen int) string {
	v, ok := r.el.value(name)
	switch {
	case required && (!ok || v == ""):
		r.fail(name, "required")
	case utf8.RuneCountInString(v) > maxLen:
		r.fail(name, "longer than "+strconv.Itoa(maxLen)+" characters")
	}
	return v
}

// integer reads an xsd:int in [lo, hi]; an absent optional field is def.
func (r *fields) integer(name string, required bool, def, lo, hi int) int {
	v, ok := r.el.value(name)
	if !ok || v == "" {
		if required {
			r.fail(name, "required")
		}
		return def
	}
	n, err := strconv.Atoi(strings.TrimPrefix(v, "+"))
	if err != nil {
		r.fail(name, "not an integer")
		return def
	}
	if n < lo || n > hi {
		r.fail(name, "must be between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
		return def
	}
	return n
}

// date reads a required xsd:date. The calendar day is what counts: a time
// zone suffix (Z, +08:00) is accepted and ignored.
func (r *fields) date(name string) time.Time {
	v, ok := r.el.value(name)
	if !ok || v == "" {
		r.fail(name, "required")
		return time.Time{}
	}
	day := v
	if len(v) > 10 {
		tz := v[10:]
		if tz != "Z" && !validOffset(tz) {
			r.fail(name, "not an xsd:date (YYYY-MM-DD)")
			return time.Time{}
		}
		day = v[:10]
	}
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		r.fail(name, "not an xsd:date (YYYY-MM-DD)")
		return time.Time{}
	}
	return t
}

func validOffset(tz string) bool {
	if len(tz) != 6 || (tz[0] != '+' && tz[0] != '-') || tz[3] != ':' {
		return false
	}
	_, err := time.Parse("15:04", tz[1:])
	return err == nil
}

// page reads pageToken and pageSize. Tokens are opaque to callers; here they
// carry the offset of the page.
func (r *fields) page() (offset, size int) {
	size = r.integer("pageSize", false, defaultPageSize, 1, maxPageSize)
	tok := r.str("pageToken", false, 128)
	if tok == "" {
		return 0, size
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	s, ok := strings.CutPrefix(string(raw), "offset:")
	n, nerr := strconv.Atoi(s)
	if err != nil || !ok || nerr != nil || n < 0 {
		r.fail("pageToken", "not a token this service issued")
		return 0, size
	}
	return n, size
}

// nextPageToken is empty when the page [offset, offset+size) reaches the end.
func nextPageToken(offset, size, total int) string {
	if offset+size >= total {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset+size)))
}

// pageBounds clamps a page to a list of total items.
func pageBounds(offset, size, total int) (from, to int) {
	from = min(offset, total)
	to = min(from+size, total)
	return from, to
}
