package store

import (
	"context"
	"time"
)

// Kind is the kind of a message.
type Kind = int32

// Message kinds.
const (
	KindChat      Kind = 1
	KindSystem    Kind = 2
	KindMarketing Kind = 3
)

// SystemSender is the sender recorded for system and marketing messages
// appended with an empty From.
const SystemSender = "system"

// User kinds.
const (
	UserMerchant = "merchant"
	UserCustomer = "customer"
	UserStaff    = "staff"
)

// NewMessage is a message to append.
type NewMessage struct {
	ConvID      string
	From        string   // sender user id; "" is allowed for system and marketing messages and stored as SystemSender
	To          string   // the peer for chat, the target user for system messages; may be empty
	Recipients  []string // inbox owners, deduplicated by the store, at least one
	ClientMsgID string   // sender's idempotency key; "" = no dedup
	Kind        Kind
	ContentType string
	Body        []byte
	SentAt      time.Time // set by the caller (server clock); stored with ms precision
}

// Message is a stored message.
type Message struct {
	ID          string // UUIDv7 assigned by the store
	ConvID      string
	ConvSeq     int64
	From        string
	To          string
	ClientMsgID string
	Kind        Kind
	ContentType string
	Body        []byte
	SentAt      time.Time // UTC, ms precision
}

// InboxEntry is the place of a message in one user's inbox.
type InboxEntry struct {
	UserID string
	Seq    int64
}

// Appended is the result of Append.
type Appended struct {
	Message   Message
	Inbox     []InboxEntry // one per distinct recipient, sorted by UserID
	Duplicate bool         // the message was stored before with the same (From, ClientMsgID)
}

// AppendResult is the outcome of one message of AppendBatch.
type AppendResult struct {
	Appended
	Err error
}

// InboxMessage is a message read from one user's inbox.
type InboxMessage struct {
	Seq     int64 // the inbox seq of the user synced
	Message Message
}

// User is an account.
type User struct {
	ID           string
	Kind         string // UserMerchant, UserCustomer or UserStaff
	DisplayName  string
	PasswordHash []byte    // bcrypt hash computed by the caller
	CreatedAt    time.Time // zero means now; stored with ms precision
}

// ReceiptQuery asks how far UserID got with ConvID (see Store.Receipts).
type ReceiptQuery struct {
	UserID string
	ConvID string
}

// Receipt answers one ReceiptQuery.
type Receipt struct {
	UserID       string
	ConvID       string
	DeliveredSeq int64 // the highest inbox Seq any device of UserID acked; 0 when none
	ReadSeq      int64 // UserID's read mark on ConvID (a ConvSeq); 0 when none
}

// Store is the IM message store.
type Store interface {
	// Append stores m durably (committed) before it returns. Concurrent calls are group-committed:
	// many appends share one transaction; each caller still returns only after its commit.
	// A call whose ctx ends after its batch was taken may return the ctx error although the
	// message is stored; appending again with the same ClientMsgID returns it.
	Append(ctx context.Context, m NewMessage) (Appended, error)
	// AppendBatch appends up to MaxBatch messages as Append does each, queued together and
	// in their order: messages of one conversation get increasing ConvSeqs in the order
	// given, so a connection's pipelined sends keep their order. Each result answers the
	// message at its index; one message failing (invalid, say) fails only itself.
	AppendBatch(ctx context.Context, ms []NewMessage) []AppendResult
	// Sync returns up to limit messages of userID's inbox with Seq > after, in Seq order,
	// and whether more remain. A limit above MaxSyncLimit is lowered to it.
	Sync(ctx context.Context, userID string, after int64, limit int) (msgs []InboxMessage, more bool, err error)
	// MaxSeq returns the highest inbox Seq of userID, 0 when the inbox is empty.
	MaxSeq(ctx context.Context, userID string) (int64, error)
	// AckDelivered records that deviceID of userID received its inbox up to seq and
	// returns the effective (highest ever) acked seq. Marks are group-committed with
	// appends: many share one transaction. A seq past the inbox's newest Seq
	// (MaxSeq) is refused with an InvalidError (Field "seq") and nothing is written: the
	// bound is checked in the statement that writes, so no race records more than exists.
	AckDelivered(ctx context.Context, userID, deviceID string, seq int64) (int64, error)
	// DeliveredSeq returns the highest seq acked by deviceID of userID, 0 when none; never
	// more than MaxSeq (a mark stored above it by an older version reads as MaxSeq).
	DeliveredSeq(ctx context.Context, userID, deviceID string) (int64, error)
	// MarkRead records that userID read convID up to ConvSeq seq and returns the
	// effective (highest ever) read seq. A seq past convID's newest ConvSeq is refused
	// with an InvalidError (Field "seq"), checked like AckDelivered's.
	MarkRead(ctx context.Context, userID, convID string, seq int64) (int64, error)
	// ReadSeq returns the highest ConvSeq of convID read by userID, 0 when none; never
	// more than convID's newest ConvSeq.
	ReadSeq(ctx context.Context, userID, convID string) (int64, error)
	// Receipts answers up to MaxBatch queries, in their order, with one read: a campaign
	// tells from them which of its messages were delivered and read.
	Receipts(ctx context.Context, qs []ReceiptQuery) ([]Receipt, error)
	// PutUser inserts u or replaces the stored user with the same ID.
	PutUser(ctx context.Context, u User) error
	// PutUserIfAbsent inserts u unless a user with its ID exists; created tells which.
	PutUserIfAbsent(ctx context.Context, u User) (created bool, err error)
	// PutUsersIfAbsent inserts, in one statement, each of up to MaxBatch users whose ID
	// does not exist yet, and returns how many it inserted. Existing users are left as they
	// are; an ID repeated in us is inserted from its first entry. One invalid user fails
	// the call (its field names the index, "users[3].Kind") and nothing is written.
	PutUsersIfAbsent(ctx context.Context, us []User) (created int, err error)
	// GetUser returns the user with id, or an error matching ErrNotFound.
	GetUser(ctx context.Context, id string) (User, error)
	// RevokeTokens records a revocation for user: of the one token jti, until its expiry
	// (then the record is purged), or, with jti "", of every token issued before until. A
	// later revocation of all tokens only moves the cutoff forward.
	RevokeTokens(ctx context.Context, user, jti string, until time.Time) error
	// TokenRevoked reports whether user's token jti, issued at issued, is revoked.
	TokenRevoked(ctx context.Context, user, jti string, issued time.Time) (bool, error)
	// MissingUsers returns which of up to MaxBatch ids have no user, in the order given
	// (an id repeated in ids and missing is returned once), with one read: a push to a
	// list of users checks them all at once.
	MissingUsers(ctx context.Context, ids []string) ([]string, error)
	// Close fails queued and later calls with ErrClosed, waits for the batch being
	// written and releases the database.
	Close() error
}
