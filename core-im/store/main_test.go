package store

import (
	"testing"

	"go.uber.org/goleak"
)

// Every Store owns goroutines (committer, pools); goleak proves Close stops them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
