package protocol

import "testing"

func TestOps(t *testing.T) {
	tests := []struct {
		op     Op
		name   string
		client bool
	}{
		{OpAuth, "AUTH", true},
		{OpAuthOK, "AUTH_OK", false},
		{OpHeartbeat, "HEARTBEAT", true},
		{OpHeartbeatAck, "HEARTBEAT_ACK", false},
		{OpSend, "SEND", true},
		{OpSendAck, "SEND_ACK", false},
		{OpPush, "PUSH", false},
		{OpDeliverAck, "DELIVER_ACK", true},
		{OpSync, "SYNC", true},
		{OpSyncResp, "SYNC_RESP", false},
		{OpRead, "READ", true},
		{OpReadAck, "READ_ACK", false},
		{OpReadReceipt, "READ_RECEIPT", false},
		{OpKick, "KICK", false},
		{OpReconnect, "RECONNECT", false},
		{OpError, "ERROR", false},
	}
	for i, tt := range tests {
		if tt.op != Op(i+1) {
			t.Fatalf("%s = %d, want %d: op numbers are wire values", tt.name, tt.op, i+1)
		}
		if tt.op.String() != tt.name || !tt.op.Known() || tt.op.ClientRequest() != tt.client {
			t.Errorf("%d: String=%q Known=%v ClientRequest=%v", tt.op, tt.op, tt.op.Known(), tt.op.ClientRequest())
		}
	}
	for _, op := range []Op{0, 17, 255} {
		if op.Known() || op.ClientRequest() {
			t.Errorf("op %d must be unknown", op)
		}
	}
	if got := Op(200).String(); got != "OP(200)" {
		t.Errorf("Op(200).String() = %q", got)
	}
}
