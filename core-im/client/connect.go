package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
)

const (
	// authSeq is the request sequence of AUTH, the first frame of every connection.
	authSeq uint32 = 1
	// clientVersion is reported in AUTH for the server's logs and metrics.
	clientVersion = "go-sdk/1"
)

// connect dials, authenticates and starts the connection's goroutines. RequestTimeout bounds
// the whole attempt. With several gateways it starts where the last attempt left off and
// goes on to the next while one cannot be reached or cannot log the device in right now;
// a refusal that would be the same everywhere (a bad token) ends the attempt.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	token, err := c.cfg.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	var errs []error
	for i := range c.addrs {
		k := (c.at + i) % len(c.addrs)
		cn, err := c.connectTo(ctx, c.addrs[k], token)
		if err == nil {
			c.at = k
			return cn, nil
		}
		errs = append(errs, err)
		var se *Error
		if ctx.Err() != nil || errors.As(err, &se) && !se.Temporary {
			break
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}

// connectTo dials one gateway and authenticates there.
func (c *Client) connectTo(ctx context.Context, addr, token string) (*conn, error) {
	nc, err := c.cfg.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	auth, rd, err := c.handshake(ctx, nc, token)
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("auth: %w", err)
	}
	cn := newConn(nc, rd, auth, &c.cfg, c.receipt)
	cn.start()
	return cn, nil
}

// skip moves the next connection attempt to the gateway after the current one.
func (c *Client) skip() { c.at = (c.at + 1) % len(c.addrs) }

// addr is the gateway of the current (or last) connection.
func (c *Client) addr() string { return c.addrs[c.at] }

// handshake sends AUTH and reads the answer synchronously, before any goroutine owns the
// socket. The returned Reader may already hold frames that followed AUTH_OK.
func (c *Client) handshake(ctx context.Context, nc net.Conn, token string) (*frame.AuthResponse, *protocol.Reader, error) {
	if deadline, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(deadline)
	}
	// Close (or the caller of Dial) cancelling ctx must interrupt the blocking read.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	req := &frame.AuthRequest{
		Token:         token,
		DeviceId:      c.cfg.DeviceID,
		Platform:      c.cfg.Platform,
		ClientVersion: clientVersion,
	}
	var tc *protocol.TraceContext
	if c.cfg.Trace != nil {
		tc = c.cfg.Trace(ctx)
	}
	if _, err := nc.Write(protocol.AppendMessage(nil, protocol.OpAuth, authSeq, tc, req)); err != nil {
		return nil, nil, ctxOr(ctx, fmt.Errorf("write: %w", err))
	}
	rd := protocol.NewReader(nc, maxInboundBody)
	f, err := rd.Next()
	if err != nil {
		return nil, nil, ctxOr(ctx, fmt.Errorf("read: %w", err))
	}
	switch f.Op {
	case protocol.OpAuthOK:
		var resp frame.AuthResponse
		if err := protocol.DecodeBody(f.Body, &resp); err != nil {
			return nil, nil, fmt.Errorf("decode AUTH_OK: %w", err)
		}
		if resp.UserId == "" {
			return nil, nil, fmt.Errorf("AUTH_OK without a user id: %w", protocol.ErrBadRequest)
		}
		if !stop() {
			return nil, nil, ctx.Err() // cancelled just now: the deadline is already broken
		}
		_ = nc.SetDeadline(time.Time{})
		return &resp, rd, nil
	case protocol.OpError:
		var e frame.Error
		if err := protocol.DecodeBody(f.Body, &e); err != nil {
			return nil, nil, fmt.Errorf("decode ERROR: %w", err)
		}
		return nil, nil, errorFromFrame(&e)
	}
	return nil, nil, fmt.Errorf("answer %s to AUTH: %w", f.Op, protocol.ErrBadRequest)
}

// ctxOr prefers the context's error: a read that failed because ctx ended is a timeout or a
// cancellation, not a network fault.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}
