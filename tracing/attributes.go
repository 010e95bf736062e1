package tracing

import "go.opentelemetry.io/otel/attribute"

// AttrTraffic classifies a root span for the sampler. The IM code sets it to TrafficChat
// when it starts a chat span (trace.WithAttributes(AttrTraffic.String(TrafficChat))):
// the sampler only sees attributes given at span start.
const AttrTraffic attribute.Key = "bangbang.traffic"

// Traffic classes. TrafficChat and TrafficRead are sampled at a ratio (Config); the
// others name traffic that is always kept, for readers of the trace.
const (
	TrafficChat      = "chat"
	TrafficRead      = "read" // a marketing request that only reads: credits, stats, leads
	TrafficMarketing = "marketing"
	TrafficAdmin     = "admin"
	TrafficCampaign  = "campaign"
)

// TrafficOf classifies an HTTP request by its method, for HertzServer.
type TrafficOf func(method string) string

// Always classifies every request as class.
func Always(class string) TrafficOf { return func(string) string { return class } }

// MarketingTraffic classifies the edge's requests: a GET or HEAD only reads (a credit
// balance, listing stats, leads) and is TrafficRead, sampled like chat; anything else
// changes state or costs money (a refresh, a promotion, a purchase, a login) and is
// TrafficMarketing, always kept. Errors are kept in both (see doc.go).
func MarketingTraffic(method string) string {
	if method == "GET" || method == "HEAD" {
		return TrafficRead
	}
	return TrafficMarketing
}

// AttrUser is the bangbang user id a span acts for; the store's user filter also matches
// the semantic-convention key enduser.id.
const AttrUser attribute.Key = "bangbang.user"

// attrEndUser is the semantic-convention user key, matched by the store's user filter.
const attrEndUser attribute.Key = "enduser.id"

// AttrKeptFor marks a span of an unsampled trace exported anyway; its value says why.
const AttrKeptFor attribute.Key = "bangbang.kept_for"

// KeptForError is AttrKeptFor's value for spans on the path of an error.
const KeptForError = "error"

// attrProcess names the process (Config.Process) in every resource, so spans from
// "bangbang all" and from separate processes can be told apart.
const attrProcess attribute.Key = "bangbang.process"

// Namespace is the service.namespace of every bangbang resource.
const Namespace = "bangbang"
