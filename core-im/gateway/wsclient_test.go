package gateway

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// wsClient is a minimal RFC 6455 client for the tests: binary messages out (masked, one
// frame each), whole messages in. Written here rather than taken from a library so the
// client side starts no goroutine of its own and goleak sees only the gateway's.
type wsClient struct {
	nc net.Conn
	br *bufio.Reader
}

const (
	wsOpCont   = 0x0
	wsOpText   = 0x1
	wsOpBinary = 0x2
	wsOpClose  = 0x8
	wsOpPing   = 0x9
	wsOpPong   = 0xa
)

func dialWSClient(addr, path string) (*wsClient, error) {
	nc, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		return nil, err
	}
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr, key)
	_ = nc.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-Websocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		nc.Close()
		return nil, fmt.Errorf("websocket handshake: %s", resp.Status)
	}
	_ = nc.SetDeadline(time.Time{})
	return &wsClient{nc: nc, br: br}, nil
}

func (c *wsClient) writeFrame(op byte, payload []byte) error {
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 0x80|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	masked := make([]byte, len(payload))
	for i, b := range payload {
		masked[i] = b ^ mask[i%4]
	}
	_, err := c.nc.Write(append(hdr, masked...))
	return err
}

// writeMessage sends one binary message.
func (c *wsClient) writeMessage(payload []byte) error { return c.writeFrame(wsOpBinary, payload) }

// writeText sends one text message (which the gateway refuses).
func (c *wsClient) writeText(payload []byte) error { return c.writeFrame(wsOpText, payload) }

// wsClosed is the server's close frame; it matches io.EOF.
type wsClosed struct {
	code   int
	reason string
}

func (e *wsClosed) Error() string { return fmt.Sprintf("websocket closed: %d %q", e.code, e.reason) }
func (e *wsClosed) Unwrap() error { return io.EOF }

// readMessage returns the next data message; it answers pings and reports a close frame
// as a *wsClosed (which matches io.EOF).
func (c *wsClient) readMessage(deadline time.Time) (op byte, msg []byte, err error) {
	_ = c.nc.SetReadDeadline(deadline)
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return 0, nil, err
		}
		fin, fop := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return 0, nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return 0, nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if h[1]&0x80 != 0 || n > 16<<20 {
			return 0, nil, errors.New("websocket: bad frame from server")
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return 0, nil, err
		}
		switch fop {
		case wsOpClose:
			cl := &wsClosed{code: 1005} // no status in the frame
			if len(payload) >= 2 {
				cl.code, cl.reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
			}
			return 0, nil, cl
		case wsOpPing:
			_ = c.writeFrame(wsOpPong, payload)
			continue
		case wsOpPong:
			continue
		case wsOpCont:
		default:
			op = fop
		}
		msg = append(msg, payload...)
		if fin {
			return op, msg, nil
		}
	}
}

func (c *wsClient) close() error { return c.nc.Close() }
