package tracing

import (
	"fmt"
	"strconv"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// sampler is the default sampler described in doc.go. Unless told to drop, the entry
// spans of an unsampled trace (a root, or a span continuing a remote parent: the first
// span of the trace in this process) are RecordOnly, so that an error reaching them can
// still be kept (see errorKeeper); the spans below them in the process are dropped, since
// recording every span of every unsampled trace doubled what tracing cost.
//
// A read's root (TrafficRead) left out by the ratio is dropped too: HertzServer, which
// starts it, makes it again when the answer is a server error (a late span, with the same
// ids and start time), which is then RecordOnly like any unsampled entry span. Nothing
// below a read's entry span is recorded when it is unsampled, so its answer is the only
// error it can keep, and recording every healthy read to find the few failed ones was
// most of what tracing cost the edge's reads.
type sampler struct {
	chat, read           sdktrace.Sampler
	chatRatio, readRatio float64
	unsampled            sdktrace.SamplingDecision
}

func newSampler(chatRatio, readRatio float64, drop bool) sampler {
	s := sampler{chat: sdktrace.TraceIDRatioBased(chatRatio), read: sdktrace.TraceIDRatioBased(readRatio),
		chatRatio: chatRatio, readRatio: readRatio, unsampled: sdktrace.RecordOnly}
	if drop {
		s.unsampled = sdktrace.Drop
	}
	return s
}

func (s sampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	psc := trace.SpanContextFromContext(p.ParentContext)
	res := sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: psc.TraceState()}
	if psc.IsValid() {
		switch {
		case psc.IsSampled():
		case psc.IsRemote():
			res.Decision = s.unsampled
		default:
			res.Decision = sdktrace.Drop
		}
		return res
	}
	var ratio sdktrace.Sampler
	unsampled := s.unsampled
	switch traffic(p) {
	case TrafficChat:
		ratio = s.chat
	case TrafficRead:
		ratio = s.read
		if !isLate(p.ParentContext) {
			unsampled = sdktrace.Drop
		}
	default:
		return res
	}
	if ratio.ShouldSample(p).Decision != sdktrace.RecordAndSample {
		res.Decision = unsampled
	}
	return res
}

func (s sampler) Description() string {
	unsampled := "recorded"
	if s.unsampled == sdktrace.Drop {
		unsampled = "dropped"
	}
	return fmt.Sprintf("BangbangSampler{parent-based; chat roots %g, read roots %g, other roots 1; unsampled entry spans %s, "+
		"unsampled reads dropped (a failed one made late, %s)}", s.chatRatio, s.readRatio, unsampled, unsampled)
}

// traffic is the root span's AttrTraffic, "" without one.
func traffic(p sdktrace.SamplingParameters) string {
	for _, kv := range p.Attributes {
		if kv.Key == AttrTraffic {
			return kv.Value.AsString()
		}
	}
	return ""
}

// samplerFromEnv returns the sampler named by OTEL_TRACES_SAMPLER, or nil when unset.
func samplerFromEnv(c Config) (sdktrace.Sampler, error) {
	name := c.env("OTEL_TRACES_SAMPLER")
	if name == "" {
		return nil, nil
	}
	ratio := func() (float64, error) {
		arg := c.env("OTEL_TRACES_SAMPLER_ARG")
		if arg == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(r >= 0 && r <= 1) {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %q is not a ratio in [0, 1]: %w", arg, ErrConfig)
		}
		return r, nil
	}
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio", "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		if name == "traceidratio" {
			return sdktrace.TraceIDRatioBased(r), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER %q is not supported: %w", name, ErrConfig)
}
