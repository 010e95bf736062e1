package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// connIDs makes connection ids unique per node and across restarts of it: a random
// per-process prefix (so a restarted node never reuses an id a stale route still holds)
// and a counter.
type connIDs struct {
	prefix string
	n      atomic.Uint64
}

func newConnIDs() *connIDs {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return &connIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (c *connIDs) next() string {
	return c.prefix + strconv.FormatUint(c.n.Add(1), 36)
}
