package edge

import (
	"fmt"
	"os"
	"testing"

	"github.com/cloudwego/hertz/pkg/common/hlog"
	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind, and, once
// every test has run, if a status a test observed on a route is missing from
// docs/api/merchant.yaml or a 200 body lacks a property the document requires.
func TestMain(m *testing.M) {
	// Hertz logs every server start and stop through its own global logger; quiet it here.
	hlog.SetLevel(hlog.LevelWarn)
	code := m.Run()
	if code == 0 {
		if err := observed.Check(); err != nil {
			fmt.Fprintln(os.Stderr, "docs/api/merchant.yaml does not match what the tests observed:\n"+err.Error())
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(
			// netpoll's pollers live for the process, like the runtime's own netpoller.
			goleak.IgnoreAnyFunction("github.com/cloudwego/netpoll.(*defaultPoll).Wait"),
			// Hertz refreshes its cached Date header from one process-wide goroutine.
			goleak.IgnoreAnyFunction("github.com/cloudwego/hertz/pkg/protocol.UpdateServerDate.func1"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
