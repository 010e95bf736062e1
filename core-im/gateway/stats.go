package gateway

import "sync/atomic"

// Stats is a snapshot of the gateway's counters, for metrics.
type Stats struct {
	Open          int64  // connections open now, authenticated or not
	Authenticated int64  // connections past AUTH now
	Upgrading     int64  // WebSocket connections accepted whose HTTP upgrade has not finished
	FramesIn      uint64 // frames read from clients
	FramesOut     uint64 // frames written to clients
	Dropped       uint64 // connections closed because their send queue was full
	RateLimited   uint64 // client frames refused by the per-connection rate limit
	Floods        uint64 // connections closed for sending on while refused (not in Dropped)
	TokensExpired uint64 // sessions closed because their login token expired

	// Connections closed before they became sessions, by reason.
	RefusedAddrCap  uint64 // closed at accept: their client address held MaxConnsPerAddr
	UpgradeTimeouts uint64 // WebSocket upgrade request not complete within UpgradeTimeout
	LoginsShed      uint64 // AUTH refused (UNAVAILABLE, retry-after): MaxLoginsInFlight logins already at logic

	// Pushes (Deliver), counted per connection named.
	PushDelivered   uint64 // queued on the connection
	PushMissing     uint64 // not on this node, or closing: logic drops the stale route
	PushDropped     uint64 // its send queue was full: the connection is being closed
	PushPendingAuth uint64 // route registered, AUTH_OK not yet sent: skipped, the client syncs
}

type counters struct {
	open, authenticated  atomic.Int64
	upgrading            atomic.Int64
	refusedAddrCap       atomic.Uint64
	upgradeTimeouts      atomic.Uint64
	loginsShed           atomic.Uint64
	framesIn, framesOut  atomic.Uint64
	dropped, rateLimited atomic.Uint64
	floods               atomic.Uint64
	tokensExpired        atomic.Uint64

	pushDelivered, pushMissing, pushDropped, pushPendingAuth atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Open:          c.open.Load(),
		Authenticated: c.authenticated.Load(),
		Upgrading:     c.upgrading.Load(),
		FramesIn:      c.framesIn.Load(),
		FramesOut:     c.framesOut.Load(),
		Dropped:       c.dropped.Load(),
		RateLimited:   c.rateLimited.Load(),
		Floods:        c.floods.Load(),
		TokensExpired: c.tokensExpired.Load(),

		RefusedAddrCap:  c.refusedAddrCap.Load(),
		UpgradeTimeouts: c.upgradeTimeouts.Load(),
		LoginsShed:      c.loginsShed.Load(),

		PushDelivered:   c.pushDelivered.Load(),
		PushMissing:     c.pushMissing.Load(),
		PushDropped:     c.pushDropped.Load(),
		PushPendingAuth: c.pushPendingAuth.Load(),
	}
}
