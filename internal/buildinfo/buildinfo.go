// Package buildinfo says which build of bangbang is running: the version an SRE matches a
// span or a metric against (the service.version resource attribute, bangbang_build_info).
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Info describes the running binary.
type Info struct {
	Version   string // the module version, or "devel+<revision>" for a build from a checkout
	Revision  string // the commit (vcs.revision), "" when the build did not record it
	Modified  bool   // built from a checkout with uncommitted changes
	GoVersion string
}

// Read returns the running binary's Info, read once.
var Read = sync.OnceValue(func() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi)
})

func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: "devel", GoVersion: runtime.Version()}
	if bi == nil {
		return info
	}
	info.GoVersion = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	switch v := bi.Main.Version; {
	case v != "" && v != "(devel)":
		info.Version = v
	case info.Revision != "":
		info.Version = "devel+" + info.Revision[:min(12, len(info.Revision))]
		if info.Modified {
			info.Version += "-dirty"
		}
	}
	return info
}

var desc = prometheus.NewDesc("bangbang_build_info",
	"The running build: always 1, its labels say which (version, revision, go_version).",
	[]string{"version", "revision", "go_version"}, nil)

type collector struct{ info Info }

// NewCollector exports bangbang_build_info{version, revision, go_version} 1.
func NewCollector() prometheus.Collector { return collector{Read()} }

func (c collector) Describe(ch chan<- *prometheus.Desc) { ch <- desc }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, 1, c.info.Version, c.info.Revision, c.info.GoVersion)
}
