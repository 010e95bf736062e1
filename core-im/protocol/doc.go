// Package protocol is the IM wire format: a fixed 14-byte header, an optional binary W3C
// trace context, and a body that is one struct of idl/frame.thrift in the Thrift Binary
// protocol. docs/protocol.md describes it byte by byte.
//
// It owns encoding and decoding only. Decoders never trust the peer: every length is checked
// against a maximum before anything is allocated, and every failure is an *Error with a
// stable common.ErrorCode, so the gateway can answer or close without guessing.
//
// Concurrency: Encode* functions and Parse are pure. A Reader belongs to one goroutine.
//
// It imports only gen/, the Thrift codec those generated types use
// (github.com/cloudwego/gopkg/protocol/thrift) and the standard library; never gateway,
// logic or store.
package protocol
