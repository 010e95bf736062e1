// Package gateway is the Entry layer of the IM core: it holds the merchants' long
// connections (TCP and WebSocket), authenticates them, turns their request frames into
// LogicService calls and pushes frames that logic addresses to them through GatewayService
// (Deliver, Kick, Drain).
//
// It owns the connections of one node and nothing else: the session table (connection id
// and user/device to session), per-connection send queues, the shared flush workers, the
// idle/auth sweeper, route renewal and the disconnect worker. Routes live in logic's router;
// messages live in logic's store. A connection whose send queue overflows is dropped, not
// its messages: they are stored and the client syncs when it reconnects.
//
// Concurrency: every exported method of *Gateway is safe for concurrent use. Frames of one
// connection are read and handled in order; SENDs are handed to the connection's send pipe
// (pipeline.go), which stores them with one logic call per round, in order, while the
// reader goes on, up to Config.SendWindow unanswered. Different connections never wait on
// each other. Every goroutine the package starts is owned by the Gateway and stopped by
// Shutdown, or ends with the logic call it makes: accept loops, per-connection readers of
// the "goroutine" IO model and of WebSocket, send pipes while they have SENDs, flush
// workers, the sweeper, the renewer and the disconnect workers, gnet's event loops and
// the inbox goroutines of the "eventloop" IO model while their inbox has frames.
//
// Three IO models read TCP connections. The default, "eventloop" (gnet), holds neither a
// goroutine nor a buffer per idle connection: its loops read into buffers of their own and
// copy whole frames to a connection's inbox, handled by a goroutine that lives while the
// inbox has frames. "goroutine" parks a reader goroutine per
// connection (its stack is most of an idle connection's cost); "netpoll" keeps netpoll's
// input and output buffers per connection. Measured in BENCHMARKS.md (sections 1 and 8).
//
// Of this repository it imports gen/, core-im/protocol and core-im/auth (for Claims and its
// errors) only, besides its transports (gnet, netpoll, Hertz, hertz-contrib/websocket); never
// logic, router, store or marketing: logic is reached through the gen/logic interface.
package gateway
