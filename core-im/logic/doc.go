// Package logic is the IM logic layer: it validates what connections ask, stores messages
// before acknowledging them, assigns them to conversations and inboxes, and routes them to
// every online device through the gateways that hold those devices.
//
// Service implements gen/logic.LogicService. `bangbang all` calls it in-process; separate
// processes reach it through Kitex (NewRemote adapts the generated client to the same
// interface). It keeps no per-user state between calls: the store and the route table hold
// everything, so any number of instances serve any request.
//
// Concurrency: every method is safe for concurrent use. Pushes run on a fixed set of
// dispatcher goroutines owned by the Service (sharded by recipient, so one user's pushes
// leave in order); Close stops them.
//
// It imports store, router, protocol and gen; never gateway (it reaches gateways through
// gen/gateway.GatewayService) nor marketing.
package logic
