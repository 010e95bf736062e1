package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

func TestReadExactStopsAtTheFrameEnd(t *testing.T) {
	var stream []byte
	stream = protocol.AppendMessage(stream, protocol.OpAuthOK, 1, nil, &frame.AuthResponse{UserId: "m1001", HeartbeatIntervalMs: 30000})
	stream = protocol.AppendMessage(stream, protocol.OpHeartbeatAck, 2, nil, &frame.HeartbeatAck{ServerTimeMs: 5})
	r := bytes.NewReader(stream)
	f, buf, err := readExact(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := authReply(&f)
	if err != nil || ok.UserId != "m1001" || ok.HeartbeatIntervalMs != 30000 {
		t.Fatalf("AUTH_OK %+v, %v", ok, err)
	}
	// Nothing of the next frame was consumed, so a shared buffer loses nothing.
	if r.Len() != len(stream)-f.Size() {
		t.Fatalf("%d bytes left, want %d", r.Len(), len(stream)-f.Size())
	}
	f, _, err = readExact(r, buf)
	if err != nil || f.Op != protocol.OpHeartbeatAck || f.Seq != 2 {
		t.Fatalf("second frame %v seq %d, %v", f.Op, f.Seq, err)
	}
	if _, _, err := readExact(r, buf); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

func TestReadExactRejects(t *testing.T) {
	huge := protocol.AppendFrame(nil, &protocol.Frame{Op: protocol.OpPush})
	binary.BigEndian.PutUint32(huge[10:14], 1<<30)
	if _, _, err := readExact(bytes.NewReader(huge), nil); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("1 GiB length: %v, want ErrTooLarge", err)
	}
	bad := protocol.AppendFrame(nil, &protocol.Frame{Op: protocol.OpPush, Body: []byte{1}})
	bad[0] = 'X'
	if _, _, err := readExact(bytes.NewReader(bad), nil); !errors.Is(err, protocol.ErrBadFrame) {
		t.Errorf("bad magic: %v, want ErrBadFrame", err)
	}
	cut := protocol.AppendMessage(nil, protocol.OpAuthOK, 1, nil, &frame.AuthResponse{UserId: "m1001"})
	if _, _, err := readExact(bytes.NewReader(cut[:len(cut)-1]), nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut body: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestAuthReply(t *testing.T) {
	refusal := frameOf(t, protocol.OpError, &frame.Error{Code: int32(common.ErrorCode_TOKEN_EXPIRED), Message: "token expired", RetryAfterMs: 250})
	_, err := authReply(&refusal)
	var se *ServerError
	if !errors.As(err, &se) || se.Code != common.ErrorCode_TOKEN_EXPIRED || se.RetryAfter.Milliseconds() != 250 {
		t.Fatalf("ERROR answer: %v, want a ServerError TOKEN_EXPIRED", err)
	}
	kick := frameOf(t, protocol.OpKick, &frame.Kick{Reason: int32(frame.KickReason_REPLACED), Message: "elsewhere"})
	if _, err := authReply(&kick); !errors.Is(err, ErrUnexpectedFrame) {
		t.Fatalf("KICK answer: %v, want ErrUnexpectedFrame", err)
	}
	var ke *KickError
	if err := kicked(&kick); !errors.As(err, &ke) || ke.Reason != frame.KickReason_REPLACED {
		t.Fatalf("kicked: %v", err)
	}
}

func frameOf(t *testing.T, op protocol.Op, b protocol.Body) protocol.Frame {
	t.Helper()
	f, _, err := protocol.Parse(protocol.AppendMessage(nil, op, 1, nil, b), 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestChatBodyCarriesRunAndTime(t *testing.T) {
	a, b := newChatRun(0, 0), newChatRun(0, 0)
	body := make([]byte, 64)
	a.body(body, 123456789)
	if ts, ok := a.sentAt(body); !ok || ts != 123456789 {
		t.Fatalf("own body: %d, %v", ts, ok)
	}
	if _, ok := b.sentAt(body); ok {
		t.Fatal("another run's body was taken for this run's")
	}
	if _, ok := a.sentAt(body[:bodyHeader-1]); ok {
		t.Fatal("a short body was accepted")
	}
}
