package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestVersionFromBuildInfo(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	for name, c := range map[string]struct {
		bi   *debug.BuildInfo
		want Info
	}{
		"unknown": {nil, Info{Version: "devel"}},
		"released": {&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}},
			Info{Version: "v1.2.3", GoVersion: "go1.26.8"}},
		"checkout": {&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}},
			Info{Version: "devel+0123456789ab", Revision: rev, GoVersion: "go1.26.8"}},
		"dirty checkout": {&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}},
			Info{Version: "devel+0123456789ab-dirty", Revision: rev, Modified: true, GoVersion: "go1.26.8"}},
	} {
		got := fromBuildInfo(c.bi)
		if name == "unknown" {
			c.want.GoVersion = got.GoVersion // the runtime's own
		}
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
}

func TestCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector())
	info := Read()
	want := `# HELP bangbang_build_info The running build: always 1, its labels say which (version, revision, go_version).
# TYPE bangbang_build_info gauge
bangbang_build_info{go_version="` + info.GoVersion + `",revision="` + info.Revision + `",version="` + info.Version + `"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "bangbang_build_info"); err != nil {
		t.Fatal(err)
	}
}
