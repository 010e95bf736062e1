package gateway

import (
	"testing"

	"github.com/cloudwego/hertz/pkg/common/hlog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Hertz logs every server start and stop through its own global logger; quiet it here.
	hlog.SetLevel(hlog.LevelWarn)
	goleak.VerifyTestMain(m,
		// netpoll's pollers live for the process, like the runtime's own netpoller.
		goleak.IgnoreAnyFunction("github.com/cloudwego/netpoll.(*defaultPoll).Wait"),
		// Hertz refreshes its cached Date header from one process-wide goroutine.
		goleak.IgnoreAnyFunction("github.com/cloudwego/hertz/pkg/protocol.UpdateServerDate.func1"),
		// gnet's goroutine pool (ants), made when the package loads, purges idle workers
		// for the life of the process.
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
	)
}
