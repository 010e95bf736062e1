// Package hertzstart runs a Hertz server in the background and returns once it serves.
//
// Hertz marks itself running inside Run, before its transport serves, and a Shutdown in
// between is lost: the transport then serves on, its goroutines outliving the server, and
// whoever waits for Run to return waits for ever (a test's cleanup hit exactly that on
// the edge). So Start returns only once the server has answered a request.
package hertzstart

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"
)

// Timeout bounds how long Start waits for the server to answer.
const Timeout = 5 * time.Second

// Start runs h, which serves ln, until its Shutdown; done is closed when Run returns, and
// a Run that ends in an error (not a shutdown) calls failed with it first. It returns once
// GET probe answers 200 on ln (probed over TLS with probeTLS when it is set), or an error
// when Run ends first or nothing answers within Timeout.
func Start(h *server.Hertz, ln net.Listener, probe string, probeTLS *tls.Config, failed func(error)) (done <-chan struct{}, err error) {
	d := make(chan struct{})
	var runErr error // written before d is closed
	go func() {
		defer close(d)
		if err := h.Run(); err != nil && !errors.Is(err, net.ErrClosed) {
			runErr = err
			failed(err)
		}
	}()
	deadline := time.Now().Add(Timeout)
	for !Answers(ln.Addr(), probe, probeTLS) {
		select {
		case <-d:
			if runErr == nil {
				return d, errors.New("stopped at start")
			}
			return d, runErr
		default:
		}
		if time.Now().After(deadline) {
			return d, fmt.Errorf("not serving after %v", Timeout)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising on time
	}
	return d, nil
}

// Answers reports whether the HTTP server at addr answers GET path with 200 within a
// second; an unspecified address is probed on the loopback.
func Answers(addr net.Addr, path string, tlsConfig *tls.Config) bool {
	target := addr.String()
	if ta, ok := addr.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		loopback := net.IPv6loopback
		if ta.IP.To4() != nil {
			loopback = net.IPv4(127, 0, 0, 1)
		}
		target = net.JoinHostPort(loopback.String(), strconv.Itoa(ta.Port))
	}
	conn, err := net.DialTimeout("tcp", target, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if tlsConfig != nil {
		conn = tls.Client(conn, tlsConfig)
	}
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		return false
	}
	status := make([]byte, len("HTTP/1.1 200"))
	_, err = io.ReadFull(conn, status)
	return err == nil && string(status) == "HTTP/1.1 200"
}
