package ratelimit

import (
	"errors"
	"testing"
	"time"
)

func TestParseLimits(t *testing.T) {
	got, err := ParseLimits("read=600/1m:100, promote=40/1h")
	if err != nil {
		t.Fatal(err)
	}
	if got[ClassRead] != (Limit{Rate: 600, Burst: 100, Period: time.Minute}) {
		t.Fatalf("read: %v", got[ClassRead])
	}
	if got[ClassPromote] != (Limit{Rate: 40, Burst: 40, Period: time.Hour}) {
		t.Fatalf("promote (burst defaults to rate): %v", got[ClassPromote])
	}
	if got[ClassRefresh] != DefaultLimits()[ClassRefresh] {
		t.Fatalf("refresh not named, not default: %v", got[ClassRefresh])
	}
	if d, err := ParseLimits(""); err != nil || len(d) != len(DefaultLimits()) {
		t.Fatalf("empty spec: %v %v", d, err)
	}
	for _, bad := range []string{"read", "reed=1/1m", "read=x/1m", "read=1/xm", "read=1/1m:y", "read=0/1m", "read=1/0s", "read=5/1m:0", "read=1/1m,"} {
		if _, err := ParseLimits(bad); !errors.Is(err, ErrInvalidLimit) {
			t.Errorf("ParseLimits(%q) = %v, want ErrInvalidLimit", bad, err)
		}
	}
}
