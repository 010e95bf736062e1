// Package client is the Go SDK of the IM core: it keeps one authenticated TCP connection to a
// gateway, reconnects on its own, and turns the frame protocol of idl/frame.thrift into calls
// (Send, MarkRead, Ack) and channels (Messages, Receipts, Events).
//
// It owns the client half of the delivery guarantees: every inbox message reaches the app
// exactly once and in inbox sequence order across reconnects. On every (re)connect it syncs
// from the last sequence handed to the app before delivering live pushes, buffers pushes
// that arrive meanwhile, drops duplicates (by sequence and message id) and syncs again when
// a push leaves a gap. Send keeps one client_msg_id across retries, so a resend after a
// dropped connection never creates a second message. The app's own sends appear in Messages
// too, in their inbox place: the server pushes a message to every device but the one that
// sent it, and the SDK inserts the acked send itself, so no sync is needed to fill that seq.
//
// Concurrency: a Client is safe for concurrent use. It owns one supervisor goroutine
// (connect, heartbeat, reconnect), one delivery goroutine (sync, ordering, acks) and, per
// connection, one reader and one writer goroutine; all of them stop before Close returns,
// and Close then closes the three channels. The channels are also closed when the server
// kicks the device off for good (REPLACED, AUTH_REVOKED). Messages blocks the delivery
// goroutine when the app does not keep up (pushes received meanwhile are dropped and synced
// later, since the server stores them); Receipts and Events never block: they drop when full.
//
// It imports core-im/protocol, gen/ and the standard library (plus uuid); never the gateway,
// logic, store, router or marketing packages: it must work against any server that speaks
// the protocol.
package client
