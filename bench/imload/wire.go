package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// maxFrame bounds what readExact accepts from the server.
const maxFrame = protocol.HeaderSize + protocol.TraceSize + protocol.DefaultMaxBody

// readExact reads exactly one frame from r into buf (grown when too small) and returns it
// with the buffer to reuse. Reading no byte past the frame lets thousands of idle
// connections share one buffer per worker instead of owning a read buffer each.
func readExact(r io.Reader, buf []byte) (protocol.Frame, []byte, error) {
	if cap(buf) < protocol.HeaderSize {
		buf = make([]byte, 512)
	}
	buf = buf[:protocol.HeaderSize]
	if _, err := io.ReadFull(r, buf); err != nil {
		return protocol.Frame{}, buf, err
	}
	total := protocol.HeaderSize + int(binary.BigEndian.Uint32(buf[10:14]))
	if total > maxFrame {
		return protocol.Frame{}, buf, fmt.Errorf("read frame: %d bytes: %w", total, protocol.ErrTooLarge)
	}
	if cap(buf) < total {
		nb := make([]byte, total)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:total]
	if _, err := io.ReadFull(r, buf[protocol.HeaderSize:]); err != nil {
		return protocol.Frame{}, buf, fmt.Errorf("read frame body: %w", err)
	}
	f, n, err := protocol.Parse(buf, 0)
	if err != nil {
		return protocol.Frame{}, buf, fmt.Errorf("read frame: %w", err)
	}
	if n != total {
		return protocol.Frame{}, buf, fmt.Errorf("read frame: parsed %d of %d bytes: %w", n, total, protocol.ErrBadFrame)
	}
	return f, buf, nil
}

// serverError decodes an ERROR frame.
func serverError(f *protocol.Frame) error {
	var e frame.Error
	if err := protocol.DecodeBody(f.Body, &e); err != nil {
		return fmt.Errorf("decode ERROR: %w", err)
	}
	return &ServerError{Code: common.ErrorCode(e.Code), Message: e.Message,
		RetryAfter: time.Duration(e.RetryAfterMs) * time.Millisecond}
}

// appendAuth appends an AUTH frame with request sequence seq.
func appendAuth(dst []byte, seq uint32, token, device string) []byte {
	return protocol.AppendMessage(dst, protocol.OpAuth, seq, nil, &frame.AuthRequest{
		Token: token, DeviceId: device, Platform: "cli", ClientVersion: "imload",
	})
}

// authReply interprets the answer to AUTH: AUTH_OK, or the server's refusal.
func authReply(f *protocol.Frame) (*frame.AuthResponse, error) {
	switch f.Op {
	case protocol.OpAuthOK:
		var ok frame.AuthResponse
		if err := protocol.DecodeBody(f.Body, &ok); err != nil {
			return nil, fmt.Errorf("decode AUTH_OK: %w", err)
		}
		return &ok, nil
	case protocol.OpError:
		return nil, fmt.Errorf("auth: %w", serverError(f))
	}
	return nil, fmt.Errorf("auth: got %s: %w", f.Op, ErrUnexpectedFrame)
}

// authenticate sends AUTH on c and waits for the answer, within timeout.
func authenticate(c net.Conn, buf []byte, token, device string, timeout time.Duration) (*frame.AuthResponse, []byte, error) {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, buf, fmt.Errorf("auth: %w", err)
	}
	if _, err := c.Write(appendAuth(buf[:0], 1, token, device)); err != nil {
		return nil, buf, fmt.Errorf("auth: write: %w", err)
	}
	f, buf, err := readExact(c, buf)
	if err != nil {
		return nil, buf, fmt.Errorf("auth: %w", err)
	}
	ok, err := authReply(&f)
	if err != nil {
		return nil, buf, err
	}
	return ok, buf, c.SetDeadline(time.Time{})
}

// kicked decodes a KICK frame.
func kicked(f *protocol.Frame) error {
	var k frame.Kick
	if err := protocol.DecodeBody(f.Body, &k); err != nil {
		return fmt.Errorf("decode KICK: %w", err)
	}
	return &KickError{Reason: frame.KickReason(k.Reason), Message: k.Message}
}
