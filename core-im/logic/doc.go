// Package logic is the IM logic layer: it validates what connections ask, stores messages
// before acknowledging them, assigns them to conversations and inboxes, and routes them to
// every online device through the gateways that hold those devices.
//
// Service implements gen/logic.LogicService. `bangbang all` calls it in-process; separate
// processes reach it through Kitex (NewRemote adapts the generated client to the same
// interface). It keeps no per-user state between calls: the store and the route table hold
// everything, so any number of instances serve any request.
//
// Gateways call the connection operations (Connect, Disconnect, Renew, Send, Sync, Ack,
// Read); the edge calls Authenticate. Campaigns call the batch operations, up to 1000 users
// each: PushToUsers (one message per user, one body for all or one each, idempotent per
// dedup key), Receipts (how far each user's devices acked and the user read: one store
// read per call) and EnsureUsers (accounts created without a password, existing ones left
// untouched: one store statement per call).
//
// Concurrency: every method is safe for concurrent use. Pushes run on a fixed set of
// dispatcher goroutines owned by the Service (sharded by recipient, so one user's pushes
// leave in order); Close stops them.
//
// It imports store, router, protocol and gen; never gateway (it reaches gateways through
// gen/gateway.GatewayService) nor marketing.
package logic
