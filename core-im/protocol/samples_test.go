package protocol

import (
	"reflect"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// sample pairs an op with a body holding a non-zero value in every field, so a codec that
// drops or swaps a field fails the round trip.
type sample struct {
	op   Op
	body Body
	// empty returns a fresh value of the same type to decode into.
	empty func() Body
}

func sampleMessage(seq int64) *common.Message {
	return &common.Message{
		MsgId:       "0190f3c2-7a4e-7b1d-9c2e-5d6f7a8b9c0d",
		ConvId:      "p:c1001|m1001",
		ConvSeq:     seq,
		Seq:         seq + 100,
		FromUser:    "c1001",
		ToUser:      "m1001",
		Kind:        int32(common.MessageKind_CHAT),
		ContentType: "text/plain",
		Body:        []byte("is the flat on Elm Street still available?"),
		ClientMsgId: "a1b2c3",
		SentAtMs:    1767225600000 + seq,
	}
}

// samples lists one body per op of the protocol; TestSamplesCoverEveryOp keeps it complete.
func samples() []sample {
	return []sample{
		{OpAuth, &frame.AuthRequest{Token: "tok.abc", DeviceId: "d-7f3a", Platform: "ios", ClientVersion: "1.4.0"},
			func() Body { return frame.NewAuthRequest() }},
		{OpAuthOK, &frame.AuthResponse{UserId: "m1001", SessionId: "s-1", ServerTimeMs: 1767225600000,
			HeartbeatIntervalMs: 30000, MaxSeq: 42, AckedSeq: 40},
			func() Body { return frame.NewAuthResponse() }},
		{OpHeartbeat, &frame.Heartbeat{ClientTimeMs: 1767225600123},
			func() Body { return frame.NewHeartbeat() }},
		{OpHeartbeatAck, &frame.HeartbeatAck{ServerTimeMs: 1767225600456},
			func() Body { return frame.NewHeartbeatAck() }},
		{OpSend, &frame.SendRequest{ClientMsgId: "a1b2c3", ToUser: "m1001", Kind: int32(common.MessageKind_CHAT),
			ContentType: "text/plain", Body: []byte("hello")},
			func() Body { return frame.NewSendRequest() }},
		{OpSendAck, &frame.SendAck{ClientMsgId: "a1b2c3", MsgId: "0190f3c2-7a4e-7b1d-9c2e-5d6f7a8b9c0d",
			ConvId: "p:c1001|m1001", ConvSeq: 7, Seq: 12, SentAtMs: 1767225600000, Duplicate: true,
			TraceId: "4bf92f3577b34da6a3ce929d0e0e4736"},
			func() Body { return frame.NewSendAck() }},
		{OpPush, &frame.Push{Messages: []*common.Message{sampleMessage(1), sampleMessage(2)}},
			func() Body { return frame.NewPush() }},
		{OpDeliverAck, &frame.DeliverAck{Seq: 102},
			func() Body { return frame.NewDeliverAck() }},
		{OpSync, &frame.SyncRequest{AfterSeq: 40, Limit: 100},
			func() Body { return frame.NewSyncRequest() }},
		{OpSyncResp, &frame.SyncResponse{Messages: []*common.Message{sampleMessage(3)}, HasMore: true, MaxSeq: 42},
			func() Body { return frame.NewSyncResponse() }},
		{OpRead, &frame.ReadRequest{ConvId: "p:c1001|m1001", ConvSeq: 7},
			func() Body { return frame.NewReadRequest() }},
		{OpReadAck, &frame.ReadAck{ConvId: "p:c1001|m1001", ConvSeq: 7},
			func() Body { return frame.NewReadAck() }},
		{OpReadReceipt, &frame.ReadReceipt{ConvId: "p:c1001|m1001", Reader: "m1001", ConvSeq: 7},
			func() Body { return frame.NewReadReceipt() }},
		{OpKick, &frame.Kick{Reason: int32(frame.KickReason_REPLACED), Message: "signed in on another device"},
			func() Body { return frame.NewKick() }},
		{OpReconnect, &frame.Reconnect{AfterMs: 1500, Reason: "draining"},
			func() Body { return frame.NewReconnect() }},
		{OpError, &frame.Error{Code: int32(common.ErrorCode_RATE_LIMITED), Message: "slow down", Temporary: true,
			RetryAfterMs: 250, TraceId: "4bf92f3577b34da6a3ce929d0e0e4736"},
			func() Body { return frame.NewError() }},
	}
}

// sameValue compares decoded bodies as Thrift values: a nil and an empty list or binary
// encode identically, so they are equal here although reflect.DeepEqual says otherwise.
func sameValue(a, b any) bool { return sameReflect(reflect.ValueOf(a), reflect.ValueOf(b)) }

func sameReflect(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameReflect(a.Elem(), b.Elem())
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameReflect(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameReflect(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameReflect(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	}
	panic("sameValue: unhandled kind " + a.Kind().String())
}
