package gateway

import (
	"encoding/binary"

	"github.com/bangbang-im/bangbang/core-im/protocol"
)

// peeker is an input buffer a frame is peeked from without consuming it: netpoll's reader,
// whose Peek waits for bytes not there yet, or a gnet connection, whose Peek does not.
type peeker interface {
	Peek(n int) ([]byte, error)
}

// peekFrame peeks the frame at the head of r, which holds avail bytes, and returns it with
// its length n (its body aliases r's buffer). Garbage is refused from the bytes already
// there, before waiting for more. A frame only partly there is waited for when wait is set
// (r's Peek waits), else returned as n = 0 for the caller to try again with more input.
func peekFrame(r peeker, avail, maxBody int, wait bool) (protocol.Frame, int, error) {
	head, err := r.Peek(min(avail, protocol.HeaderSize))
	if err != nil {
		return protocol.Frame{}, 0, err
	}
	if _, _, err := protocol.Parse(head, maxBody); err != nil {
		return protocol.Frame{}, 0, err
	}
	if len(head) < protocol.HeaderSize {
		if !wait {
			return protocol.Frame{}, 0, nil
		}
		if head, err = r.Peek(protocol.HeaderSize); err != nil {
			return protocol.Frame{}, 0, err
		}
	}
	f, n, err := protocol.Parse(head, maxBody)
	if err != nil || n > 0 {
		return f, n, err
	}
	total := protocol.HeaderSize + int(binary.BigEndian.Uint32(head[10:14]))
	if !wait && avail < total {
		return protocol.Frame{}, 0, nil
	}
	buf, err := r.Peek(total)
	if err != nil {
		return protocol.Frame{}, 0, err
	}
	f, n, err = protocol.Parse(buf, maxBody)
	if err == nil && n != total {
		err = &protocol.Error{Code: protocol.ErrBadFrame.Code, Message: "frame length changed under the reader"}
	}
	return f, n, err
}
