package protocol

import "fmt"

// Op is the operation of a frame: it names the body type.
type Op uint8

// Operations. Requests come from the client; each request is answered by its response op or
// by OpError, carrying the request's seq. Pushes come from the server with seq 0.
const (
	OpAuth         Op = 1  // AuthRequest
	OpAuthOK       Op = 2  // AuthResponse
	OpHeartbeat    Op = 3  // Heartbeat
	OpHeartbeatAck Op = 4  // HeartbeatAck
	OpSend         Op = 5  // SendRequest
	OpSendAck      Op = 6  // SendAck
	OpPush         Op = 7  // Push
	OpDeliverAck   Op = 8  // DeliverAck (no response)
	OpSync         Op = 9  // SyncRequest
	OpSyncResp     Op = 10 // SyncResponse
	OpRead         Op = 11 // ReadRequest
	OpReadAck      Op = 12 // ReadAck
	OpReadReceipt  Op = 13 // ReadReceipt (push)
	OpKick         Op = 14 // Kick (push, then close)
	OpReconnect    Op = 15 // Reconnect (push)
	OpError        Op = 16 // Error
)

var opNames = [...]string{
	OpAuth: "AUTH", OpAuthOK: "AUTH_OK", OpHeartbeat: "HEARTBEAT", OpHeartbeatAck: "HEARTBEAT_ACK",
	OpSend: "SEND", OpSendAck: "SEND_ACK", OpPush: "PUSH", OpDeliverAck: "DELIVER_ACK",
	OpSync: "SYNC", OpSyncResp: "SYNC_RESP", OpRead: "READ", OpReadAck: "READ_ACK",
	OpReadReceipt: "READ_RECEIPT", OpKick: "KICK", OpReconnect: "RECONNECT", OpError: "ERROR",
}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("OP(%d)", uint8(o))
}

// Known reports whether o is an operation of this protocol version.
func (o Op) Known() bool { return int(o) < len(opNames) && opNames[o] != "" }

// ClientRequest reports whether a client may send o.
func (o Op) ClientRequest() bool {
	switch o {
	case OpAuth, OpHeartbeat, OpSend, OpDeliverAck, OpSync, OpRead:
		return true
	}
	return false
}
