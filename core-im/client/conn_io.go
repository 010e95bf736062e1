package client

import (
	"fmt"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// readLoop reads frames until the connection fails or is closed. It never blocks on the app:
// responses go to buffered waiters, pushes to a bounded queue, receipts to a callback that
// drops when full.
func (c *conn) readLoop() {
	defer c.wg.Done()
	for {
		f, err := c.rd.Next()
		if err != nil {
			c.close(fmt.Errorf("read: %w", err))
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		if err := c.dispatch(&f); err != nil {
			c.close(err)
			return
		}
	}
}

// dispatch handles one frame; an error ends the connection.
func (c *conn) dispatch(f *protocol.Frame) error {
	if f.Seq != 0 && f.Op != protocol.OpPush && f.Op != protocol.OpReadReceipt {
		// The decoded body aliases the reader's buffer until the next frame.
		c.respond(f.Seq, response{op: f.Op, body: append([]byte(nil), f.Body...)})
		return nil
	}
	switch f.Op {
	case protocol.OpPush:
		var p frame.Push
		if err := protocol.DecodeBody(f.Body, &p); err != nil {
			return fmt.Errorf("decode PUSH: %w", err)
		}
		select {
		case c.pushes <- p.Messages:
		default:
			c.lost.Store(true)
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
	case protocol.OpReadReceipt:
		var r frame.ReadReceipt
		if err := protocol.DecodeBody(f.Body, &r); err != nil {
			return fmt.Errorf("decode READ_RECEIPT: %w", err)
		}
		c.receipt(Receipt{ConvID: r.ConvId, Reader: r.Reader, ConvSeq: r.ConvSeq})
	case protocol.OpKick:
		var k frame.Kick
		if err := protocol.DecodeBody(f.Body, &k); err != nil {
			return fmt.Errorf("decode KICK: %w", err)
		}
		c.mu.Lock()
		c.kick = &k
		c.mu.Unlock()
		// The server closes after KICK; closing first keeps a lingering socket from
		// delaying what the supervisor decides.
		return kickError(&k)
	case protocol.OpReconnect:
		var r frame.Reconnect
		if err := protocol.DecodeBody(f.Body, &r); err != nil {
			return fmt.Errorf("decode RECONNECT: %w", err)
		}
		select {
		case c.reconnect <- &r:
		default: // one pending RECONNECT is enough
		}
	case protocol.OpError:
		// An ERROR outside any request is about the connection itself; the server closes.
		var e frame.Error
		if err := protocol.DecodeBody(f.Body, &e); err != nil {
			return fmt.Errorf("decode ERROR: %w", err)
		}
		return fmt.Errorf("connection error: %w", errorFromFrame(&e))
	default:
		// Pushes a later protocol version adds are ignored, not fatal.
		c.log.Debug("ignored frame", "op", f.Op)
	}
	return nil
}

// writeLoop gathers queued frames into one write per wake-up: one syscall for many frames.
func (c *conn) writeLoop() {
	defer c.wg.Done()
	var buf []byte
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			buf = append(buf[:0], b...)
		gather:
			for len(buf) < maxWriteBatch {
				select {
				case b := <-c.out:
					buf = append(buf, b...)
				default:
					break gather
				}
			}
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
			if _, err := c.nc.Write(buf); err != nil {
				c.close(fmt.Errorf("write: %w", err))
				return
			}
			if cap(buf) > 4*maxWriteBatch {
				buf = nil // one huge burst must not pin its buffer for the connection's life
			}
		}
	}
}
