package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseLimits reads operator overrides of DefaultLimits, e.g.
// "read=600/1m:100,promote=40/1h:10": class=rate/period:burst, comma separated. Classes not
// named keep their default; an empty spec means the defaults. Unknown classes and malformed
// or invalid limits are an error, never ignored.
func ParseLimits(spec string) (map[Class]Limit, error) {
	limits := DefaultLimits()
	if strings.TrimSpace(spec) == "" {
		return limits, nil
	}
	for _, item := range strings.Split(spec, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		class := Class(name)
		if _, known := limits[class]; !ok || !known {
			return nil, fmt.Errorf("rate limits %q: want class=rate/period:burst with a class of %v: %w", item, classNames(limits), ErrInvalidLimit)
		}
		l, err := parseLimit(value)
		if err != nil {
			return nil, fmt.Errorf("rate limits %q: %w", item, err)
		}
		limits[class] = l
	}
	return limits, nil
}

func parseLimit(s string) (Limit, error) {
	rateS, rest, ok := strings.Cut(s, "/")
	periodS, burstS, hasBurst := strings.Cut(rest, ":")
	if !ok {
		return Limit{}, fmt.Errorf("%q is not rate/period[:burst]: %w", s, ErrInvalidLimit)
	}
	rate, err := strconv.Atoi(rateS)
	if err != nil {
		return Limit{}, fmt.Errorf("rate %q: %w", rateS, ErrInvalidLimit)
	}
	period, err := time.ParseDuration(periodS)
	if err != nil {
		return Limit{}, fmt.Errorf("period %q: %w", periodS, ErrInvalidLimit)
	}
	burst := rate
	if hasBurst {
		if burst, err = strconv.Atoi(burstS); err != nil {
			return Limit{}, fmt.Errorf("burst %q: %w", burstS, ErrInvalidLimit)
		}
	}
	l := Limit{Rate: rate, Burst: burst, Period: period}
	return l, l.Validate()
}

func classNames(m map[Class]Limit) []string {
	var out []string
	for _, c := range []Class{ClassRead, ClassRefresh, ClassPromote, ClassPurchase, ClassLogin, ClassLoginAddr} {
		if _, ok := m[c]; ok {
			out = append(out, string(c))
		}
	}
	return out
}
