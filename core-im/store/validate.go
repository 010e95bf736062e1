package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Size limits enforced on every input; anything larger is ErrInvalid.
const (
	MaxBodyBytes         = 64 << 10
	MaxIDBytes           = 128 // user, conversation, device and client message ids
	MaxRecipients        = 1024
	MaxContentTypeBytes  = 128
	MaxDisplayNameBytes  = 256
	MaxPasswordHashBytes = 256
	MaxSyncLimit         = 1000
	MaxBatch             = 1000 // queries of one Receipts call, users of one PutUsersIfAbsent call
)

// checkText rejects invalid UTF-8 and NUL bytes as well as oversize values:
// PostgreSQL refuses both in text columns, and failing one request before it
// joins a batch is cheaper than failing the batch.
func checkText(field, v string, max int, required bool) error {
	switch {
	case v == "" && required:
		return invalid(field, "empty")
	case len(v) > max:
		return invalid(field, fmt.Sprintf("longer than %d bytes", max))
	case !utf8.ValidString(v):
		return invalid(field, "not valid UTF-8")
	case strings.IndexByte(v, 0) >= 0:
		return invalid(field, "contains a NUL byte")
	}
	return nil
}

func checkID(field, v string) error { return checkText(field, v, MaxIDBytes, true) }

// ValidID reports whether the store takes v as an id: callers that check a list before a
// batch call use it, so one bad id is refused alone rather than failing the batch.
func ValidID(v string) bool { return checkID("id", v) == nil }

// prepareMessage validates m and returns the copy the committer writes:
// recipients sorted and deduplicated, body copied (the caller may reuse its
// buffer while the request is queued), SentAt in UTC with ms precision, and
// an id assigned.
func prepareMessage(m NewMessage) (NewMessage, string, error) {
	if err := checkID("ConvID", m.ConvID); err != nil {
		return NewMessage{}, "", err
	}
	switch m.Kind {
	case KindChat:
		if m.From == "" {
			return NewMessage{}, "", invalid("From", "empty for a chat message")
		}
	case KindSystem, KindMarketing:
		if m.From == "" {
			m.From = SystemSender
		}
	default:
		return NewMessage{}, "", invalid("Kind", fmt.Sprintf("unknown kind %d", m.Kind))
	}
	if err := checkID("From", m.From); err != nil {
		return NewMessage{}, "", err
	}
	if err := checkText("To", m.To, MaxIDBytes, false); err != nil {
		return NewMessage{}, "", err
	}
	if err := checkText("ClientMsgID", m.ClientMsgID, MaxIDBytes, false); err != nil {
		return NewMessage{}, "", err
	}
	if err := checkText("ContentType", m.ContentType, MaxContentTypeBytes, false); err != nil {
		return NewMessage{}, "", err
	}
	if len(m.Body) > MaxBodyBytes {
		return NewMessage{}, "", invalid("Body", fmt.Sprintf("longer than %d bytes", MaxBodyBytes))
	}
	if m.SentAt.IsZero() {
		return NewMessage{}, "", invalid("SentAt", "zero")
	}
	if len(m.Recipients) == 0 {
		return NewMessage{}, "", invalid("Recipients", "empty")
	}
	if len(m.Recipients) > MaxRecipients {
		return NewMessage{}, "", invalid("Recipients", fmt.Sprintf("more than %d", MaxRecipients))
	}
	for i, r := range m.Recipients {
		if err := checkID(fmt.Sprintf("Recipients[%d]", i), r); err != nil {
			return NewMessage{}, "", err
		}
	}
	m.Recipients = slices.Compact(slices.Sorted(slices.Values(m.Recipients)))
	m.Body = append([]byte{}, m.Body...)
	m.SentAt = msPrecision(m.SentAt)
	id, err := uuid.NewV7()
	if err != nil {
		return NewMessage{}, "", fmt.Errorf("new message id: %w", err)
	}
	return m, id.String(), nil
}

func prepareUser(u User) (User, error) {
	if err := checkID("ID", u.ID); err != nil {
		return User{}, err
	}
	switch u.Kind {
	case UserMerchant, UserCustomer, UserStaff:
	default:
		return User{}, invalid("Kind", fmt.Sprintf("unknown user kind %q", u.Kind))
	}
	if err := checkText("DisplayName", u.DisplayName, MaxDisplayNameBytes, false); err != nil {
		return User{}, err
	}
	if len(u.PasswordHash) > MaxPasswordHashBytes {
		return User{}, invalid("PasswordHash", fmt.Sprintf("longer than %d bytes", MaxPasswordHashBytes))
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	u.CreatedAt = msPrecision(u.CreatedAt)
	u.PasswordHash = append([]byte{}, u.PasswordHash...)
	return u, nil
}

// prepareUsers validates us and returns the users to insert, prepared as by prepareUser,
// each ID once: its first entry.
func prepareUsers(us []User) ([]User, error) {
	if len(us) > MaxBatch {
		return nil, invalid("users", fmt.Sprintf("more than %d", MaxBatch))
	}
	out := make([]User, 0, len(us))
	seen := make(map[string]bool, len(us))
	for i, u := range us {
		u, err := prepareUser(u)
		if err != nil {
			var ie *InvalidError
			if errors.As(err, &ie) {
				return nil, invalid(fmt.Sprintf("users[%d].%s", i, ie.Field), ie.Reason)
			}
			return nil, err
		}
		if !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	return out, nil
}

func checkIDs(ids []string) error {
	if len(ids) > MaxBatch {
		return invalid("ids", fmt.Sprintf("more than %d", MaxBatch))
	}
	for i, id := range ids {
		if err := checkID(fmt.Sprintf("ids[%d]", i), id); err != nil {
			return err
		}
	}
	return nil
}

// missingOf returns the ids not in found, in the order given, each once.
func missingOf(ids []string, found map[string]bool) []string {
	var out []string
	for _, id := range ids {
		if !found[id] {
			out = append(out, id)
			found[id] = true // once
		}
	}
	return out
}

func checkReceiptQueries(qs []ReceiptQuery) error {
	if len(qs) > MaxBatch {
		return invalid("queries", fmt.Sprintf("more than %d", MaxBatch))
	}
	for i, q := range qs {
		if err := checkID(fmt.Sprintf("queries[%d].UserID", i), q.UserID); err != nil {
			return err
		}
		if err := checkID(fmt.Sprintf("queries[%d].ConvID", i), q.ConvID); err != nil {
			return err
		}
	}
	return nil
}

func checkSync(userID string, after int64, limit int) (int, error) {
	if err := checkID("userID", userID); err != nil {
		return 0, err
	}
	if after < 0 {
		return 0, invalid("after", "negative")
	}
	if limit <= 0 {
		return 0, invalid("limit", "not positive")
	}
	return min(limit, MaxSyncLimit), nil
}

func checkMark(userField, userID, keyField, key string, seq int64) error {
	if err := checkID(userField, userID); err != nil {
		return err
	}
	if err := checkID(keyField, key); err != nil {
		return err
	}
	if seq < 0 {
		return invalid("seq", "negative")
	}
	return nil
}

// A mark past what exists is refused: a device that acked an inbox seq not yet assigned
// would skip every message given it later (its next AUTH_OK would report that ack).
var (
	errAckPastEnd  = invalid("seq", "past the newest inbox seq")
	errReadPastEnd = invalid("seq", "past the newest conversation seq")
)

// msPrecision is the one time representation both backends store and return.
func msPrecision(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
