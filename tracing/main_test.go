package tracing

import (
	"testing"

	"go.uber.org/goleak"
)

// The batch processor, the exporters and the in-test receivers all start goroutines;
// every test stops what it starts, and goleak holds it to that.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
