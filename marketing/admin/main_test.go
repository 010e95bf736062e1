package admin

import (
	"fmt"
	"os"
	"testing"

	"github.com/cloudwego/hertz/pkg/common/hlog"
	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind, and, once every test
// has run, if a status a test observed is missing from docs/api/admin.yaml or a JSON body
// lacks what the document requires.
func TestMain(m *testing.M) {
	// Hertz logs every server start and stop through its own global logger; quiet it here.
	hlog.SetLevel(hlog.LevelWarn)
	code := m.Run()
	if code == 0 {
		if err := observed.Check(); err != nil {
			fmt.Fprintln(os.Stderr, "docs/api/admin.yaml does not match what the tests observed:\n"+err.Error())
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(
			goleak.IgnoreAnyFunction("github.com/cloudwego/netpoll.(*defaultPoll).Wait"),
			// Hertz's process-wide Date header refresher.
			goleak.IgnoreAnyFunction("github.com/cloudwego/hertz/pkg/protocol.UpdateServerDate.func1"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
