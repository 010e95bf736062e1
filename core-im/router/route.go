package router

import (
	"context"
	"time"
)

// Route says that a device of a user is connected to a gateway node.
type Route struct {
	UserID   string
	DeviceID string
	// Node is the gateway node id, which is also its push RPC address,
	// e.g. "10.0.0.5:8901", or "local" in a single process.
	Node string
	// ConnID is unique per connection on that node.
	ConnID string
	// Platform is informational: "ios", "android", "web" or "".
	Platform string
	// Since is when the connection authenticated; tables keep it to the
	// millisecond.
	Since time.Time
}

// Table is the route table. Implementations are safe for concurrent use.
type Table interface {
	// Put registers r for ttl. If the same (UserID, DeviceID) was held by
	// another live connection (different Node or ConnID), that route is
	// replaced and returned so the caller can kick it.
	Put(ctx context.Context, r Route, ttl time.Duration) (replaced *Route, err error)
	// Remove deletes r only if (UserID, DeviceID) is still held by
	// r.Node/r.ConnID, so a late disconnect of an old connection never
	// removes its successor. It reports whether it removed a live route.
	Remove(ctx context.Context, r Route) (bool, error)
	// Renew extends to ttl every listed route still held by the same
	// connection. Routes absent, expired or held by another connection are
	// returned as lost so the gateway can register them again or drop them.
	Renew(ctx context.Context, rs []Route, ttl time.Duration) (lost []Route, err error)
	// Lookup returns the live routes of each user, ordered by DeviceID.
	// Users without any are absent from the map.
	Lookup(ctx context.Context, users []string) (map[string][]Route, error)
	// Count returns the exact number of live routes held by node.
	Count(ctx context.Context, node string) (int, error)
	// Close releases what the table owns; later calls return ErrClosed.
	Close() error
}

// sameConn reports whether a and b name the same connection.
func sameConn(a, b *Route) bool {
	return a.Node == b.Node && a.ConnID == b.ConnID
}

// msTime keeps t to the millisecond, the precision both tables store, so a
// route reads back the same from either.
func msTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli())
}
