package gateway

import "errors"

var (
	// ErrSendQueueFull: a connection's send queue overflowed. Policy: the connection is
	// dropped (KICK SLOW_CONSUMER, best effort), never the message: it is stored and the
	// client syncs it after reconnecting.
	ErrSendQueueFull = errors.New("send queue full")
	// ErrConnClosed: the connection is closed or closing; nothing more is sent on it.
	ErrConnClosed = errors.New("connection closed")
	// ErrStarted: Start was called twice, or after Shutdown.
	ErrStarted = errors.New("gateway already started")
	// ErrNotServing: the gateway is not started, or is draining or shutting down (Ready).
	ErrNotServing = errors.New("gateway not serving")
)
