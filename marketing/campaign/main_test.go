package campaign

import (
	"testing"

	"go.uber.org/goleak"
)

// A Worker owns goroutines; goleak proves Stop ends them (database pools included).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
