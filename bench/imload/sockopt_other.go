//go:build !linux

package main

import "syscall"

// deferPortChoice is Linux-only; elsewhere the port is chosen at bind time.
func deferPortChoice(network, address string, c syscall.RawConn) error { return nil }
