package main

import (
	"fmt"
	"syscall"
)

// fdHeadroom is what the load program needs besides its connections: stdio, the HTTP
// client of the logins, /proc reads.
const fdHeadroom = 64

// raiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit and reports whether conns
// connections fit under it. Raising the hard limit takes privileges this program does not
// assume, so a short one is reported (ErrCapacity) for the operator to fix.
func raiseNoFile(conns int) (limit uint64, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, fmt.Errorf("setrlimit: %w", err)
		}
	}
	if need := uint64(conns + fdHeadroom); need > rl.Cur {
		return rl.Cur, fmt.Errorf("%d connections need %d file descriptors, the hard limit is %d (raise it with ulimit -Hn as root, and the server's too): %w",
			conns, need, rl.Cur, ErrCapacity)
	}
	return rl.Cur, nil
}
