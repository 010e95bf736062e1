package campaign

import (
	"encoding/json"
	"time"
)

// Role is what a staff key may do. Roles are not a ladder: an author writes campaigns and
// a sender launches them, so a campaign can need two people (four eyes); admin does
// everything.
type Role string

// The staff roles.
const (
	RoleViewer Role = "viewer" // reads everything (campaigns, merchants, audit, traces)
	RoleAuthor Role = "author" // viewer + drafts, preview, test-send, merchants and imports
	RoleSender Role = "sender" // viewer + schedule, start, pause, resume, cancel
	RoleAdmin  Role = "admin"  // everything, keys included
)

// Permission is one kind of staff action.
type Permission string

// The permissions the admin API checks.
const (
	PermRead    Permission = "read"   // GET routes
	PermAuthor  Permission = "author" // create/edit drafts, preview, test-send, merchants, imports
	PermSend    Permission = "send"   // start (schedule), pause, resume, cancel
	PermManage  Permission = "manage" // keys
	permUnknown Permission = ""
)

// Allows reports whether r grants p.
func (r Role) Allows(p Permission) bool {
	switch r {
	case RoleAdmin:
		return p != permUnknown
	case RoleAuthor:
		return p == PermRead || p == PermAuthor
	case RoleSender:
		return p == PermRead || p == PermSend
	case RoleViewer:
		return p == PermRead
	}
	return false
}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	return r == RoleViewer || r == RoleAuthor || r == RoleSender || r == RoleAdmin
}

// Actor is who makes a change: a staff key, the bootstrap key, or the system itself.
type Actor struct {
	KeyID string `json:"key_id"` // "bootstrap" for BANGBANG_ADMIN_KEY, "system" for the worker
	Name  string `json:"name"`
	Role  Role   `json:"role"`
	// TraceID of the request that made the change, recorded in the audit log.
	TraceID string `json:"-"`
}

// The actors that are not stored keys.
var (
	BootstrapActor = Actor{KeyID: "bootstrap", Name: "BANGBANG_ADMIN_KEY", Role: RoleAdmin}
	SystemActor    = Actor{KeyID: "system", Name: "campaign worker", Role: RoleAdmin}
)

// Key is a stored staff key. The secret itself is never stored: only its SHA-256.
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Prefix    string     `json:"prefix"` // the secret's first characters, to recognise it
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// AuditEntry is one change a staff member (or the worker) made.
type AuditEntry struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	ActorID   string          `json:"actor_id"`
	ActorName string          `json:"actor_name"`
	Action    string          `json:"action"` // e.g. "campaign.start"
	Target    string          `json:"target"` // e.g. "campaign:cmp_…", "merchant:m1001", "key:key_…"
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
	TraceID   string          `json:"trace_id,omitempty"`
}

// AuditQuery filters the audit log; entries come newest first.
type AuditQuery struct {
	Target   string // exact; "" any
	ActorID  string // exact; "" any
	Action   string // exact or a prefix ending in "." ("campaign."); "" any
	BeforeID int64  // entries with a smaller id (paging); 0: from the newest
	Limit    int    // 1..MaxPage; 0 means DefaultPage
}

// Merchant is a member of the audience, with the attributes segments select on.
type Merchant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	City      string    `json:"city"`
	Category  string    `json:"category"`
	Tags      []string  `json:"tags"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MerchantQuery filters the merchant list; merchants come in id order.
type MerchantQuery struct {
	Segment
	Prefix string // id prefix; "" any
	Search string // text the id or the name contains, ignoring case (SQLite: ASCII letters only); "" any
	After  string // ids greater than this (paging)
	Limit  int    // 1..MaxPage; 0 means DefaultPage
}

// Segment selects merchants by attribute. Every field set must match: the city is one of
// Cities, the category one of Categories, and the merchant has every tag in Tags.
type Segment struct {
	Cities     []string `json:"cities,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Tags       []string `json:"tags,omitempty"`
}

// Empty reports whether s selects nothing by itself.
func (s Segment) Empty() bool {
	return len(s.Cities) == 0 && len(s.Categories) == 0 && len(s.Tags) == 0
}

// Audience is who a campaign reaches: the listed merchants and those of the segment.
type Audience struct {
	MerchantIDs []string `json:"merchant_ids,omitempty"`
	Segment     *Segment `json:"segment,omitempty"`
}

// Message is what every recipient gets, rendered per merchant.
type Message struct {
	Title  string  `json:"title"`  // a Go text/template
	Body   string  `json:"body"`   // a Go text/template
	Action *Action `json:"action"` // optional button
}

// Action is a button that performs a marketing action through the edge.
type Action struct {
	Label  string `json:"label"`            // the button's text (a template)
	Type   string `json:"type"`             // one of ActionTypes
	Target string `json:"target,omitempty"` // listing or job id (a template), for the types that need one
}

// Spec is the part of a campaign its author writes: everything a draft may change.
type Spec struct {
	Name     string     `json:"name"`
	Audience Audience   `json:"audience"`
	Message  Message    `json:"message"`
	SendAt   *time.Time `json:"send_at,omitempty"` // nil: at start
	Rate     int        `json:"rate"`              // messages per second, 1..MaxRate; 0 means DefaultRate
}

// State is where a campaign is in its life.
type State string

// The campaign states: draft → scheduled → running ⇄ paused → finished, or cancelled.
const (
	StateDraft     State = "draft"
	StateScheduled State = "scheduled"
	StateRunning   State = "running"
	StatePaused    State = "paused"
	StateFinished  State = "finished"
	StateCancelled State = "cancelled"
)

// States are every campaign state, in the order of a campaign's life.
var States = []State{StateDraft, StateScheduled, StateRunning, StatePaused, StateFinished, StateCancelled}

// Stats count what became of a campaign's recipients.
type Stats struct {
	Targeted  int64   `json:"targeted"`  // recipients fixed at start
	Sent      int64   `json:"sent"`      // stored in the recipient's inbox (pushed if online)
	Delivered int64   `json:"delivered"` // a device of the recipient acknowledged it
	Read      int64   `json:"read"`      // the recipient sent a read receipt
	Clicked   int64   `json:"clicked"`   // the recipient performed the button's action
	Failed    int64   `json:"failed"`    // could not be stored for good (never retried)
	Skipped   int64   `json:"skipped"`   // the merchant was deleted after the audience was fixed
	Pending   int64   `json:"pending"`   // not handled yet
	Rate      float64 `json:"rate"`      // messages/s achieved recently while running
}

// Campaign is a campaign as the API shows it.
type Campaign struct {
	ID string `json:"id"`
	Spec
	State       State      `json:"state"`
	PauseReason string     `json:"pause_reason,omitempty"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Stats       Stats      `json:"stats"`
}

// Progress is one sample of a campaign's counters over time.
type Progress struct {
	At        time.Time `json:"at"`
	Sent      int64     `json:"sent"`
	Delivered int64     `json:"delivered"`
	Read      int64     `json:"read"`
	Clicked   int64     `json:"clicked"`
	Failed    int64     `json:"failed"`
}

// RecipientStatus is what became of one recipient.
type RecipientStatus int

// Recipient statuses, as stored.
const (
	RecipientPending RecipientStatus = 0
	RecipientSent    RecipientStatus = 1
	RecipientFailed  RecipientStatus = 2
	RecipientSkipped RecipientStatus = 3
)

func (s RecipientStatus) String() string {
	switch s {
	case RecipientPending:
		return "pending"
	case RecipientSent:
		return "sent"
	case RecipientFailed:
		return "failed"
	case RecipientSkipped:
		return "skipped"
	}
	return "unknown"
}

// MarshalText writes the status's name.
func (s RecipientStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Recipient is one row of a campaign's fixed audience.
type Recipient struct {
	Pos         int64           `json:"pos"` // 1.. in send order
	MerchantID  string          `json:"merchant_id"`
	Status      RecipientStatus `json:"status"`
	MsgID       string          `json:"msg_id,omitempty"`
	Seq         int64           `json:"seq,omitempty"`      // inbox seq of the message
	ConvSeq     int64           `json:"conv_seq,omitempty"` // seq in the system conversation
	Error       string          `json:"error,omitempty"`
	SentAt      *time.Time      `json:"sent_at,omitempty"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
	ReadAt      *time.Time      `json:"read_at,omitempty"`
	ClickedAt   *time.Time      `json:"clicked_at,omitempty"`
}

// Limits.
const (
	DefaultPage      = 100
	MaxPage          = 1000
	DefaultRate      = 100     // messages/s
	MaxRate          = 100_000 // messages/s
	MaxExplicitIDs   = 10_000  // merchant_ids listed in one campaign
	MaxTestIDs       = 20      // merchant_ids of one test-send
	MaxTemplateBytes = 8 << 10
	MaxRenderedBytes = 16 << 10
	MaxNameBytes     = 200
	MaxAttrBytes     = 64 // city, category, a tag
	MaxTags          = 20
	MaxSegmentValues = 50 // cities or categories in a segment
)
