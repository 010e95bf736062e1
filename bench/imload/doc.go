// Command imload is the IM core's load program. It talks to an already running server the
// way apps do (POST /v1/login on the edge, then the TCP frame protocol of idl/frame.thrift)
// and measures what the targets in BENCHMARKS.md are stated in:
//
//   - idle: opens N authenticated connections that then stay quiet, and reports the
//     server's resident memory per connection (from /proc/PID/status of --server-pid).
//   - chat: drives 1:1 traffic between distinct senders and receivers and reports messages
//     per second stored (SEND_ACK) and delivered (PUSH at the receiver, which acks it), with
//     latency percentiles of both.
//   - push: opens N authenticated connections, then has the gateway push R frames to each
//     through its Deliver RPC (what logic calls, --gateway), and reports the frames/s the
//     connections read and the gateway's CPU per frame. It measures the gateway's fan-out
//     with the clients in another process, which the in-process benchmark cannot do past
//     half the descriptor limit.
//
// It speaks the protocol with raw connections rather than the SDK (core-im/client): an idle
// connection here is a socket and a few words, so the load program's own memory stays small
// next to the server it measures, and chat can time each frame without the SDK's buffering.
//
// Concurrency: every goroutine is started by a run function (runIdle, runChat, runPush)
// that stops it and waits for it before returning; connections belong to exactly one
// goroutine that reads them, and writes to one connection come from one goroutine at a
// time.
//
// It imports core-im/protocol, gen/ (and Kitex, for push's Deliver calls) and the standard
// library only: it must measure any server that speaks the protocol, so never the gateway,
// logic or store packages (its end-to-end test wires those to have a real server to
// measure).
package main
