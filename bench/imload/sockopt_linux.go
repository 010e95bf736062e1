package main

import "syscall"

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT from linux/in.h (not in package syscall).
const ipBindAddressNoPort = 24

// deferPortChoice makes a socket bound to a source address pick its port at connect time
// rather than at bind time. Then the kernel checks the whole 4-tuple: ports still in
// TIME_WAIT from the previous run can be reused (tcp_tw_reuse covers loopback by default),
// and a source address is not exhausted by connections to other servers.
func deferPortChoice(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
