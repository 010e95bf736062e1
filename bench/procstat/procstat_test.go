package procstat

import (
	"errors"
	"io"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with a space and a ')' in it: fields count from the last ')'.
	s := "4242 (my (odd) cmd) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0"
	got, err := ParseStatCPU(s)
	if err != nil || got != 3*time.Second {
		t.Fatalf("ParseStatCPU = %v, %v; want 3s (300 ticks)", got, err)
	}
	for _, bad := range []string{"no name", "4242 (short) S 1 2"} {
		if _, err := ParseStatCPU(bad); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ParseStatCPU(%q) = %v, want ErrUnexpectedEOF", bad, err)
		}
	}
	if _, err := CPU(0); err != nil {
		t.Errorf("CPU(self): %v", err)
	}
}
