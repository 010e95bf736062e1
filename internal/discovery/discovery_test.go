package discovery

import (
	"errors"
	"slices"
	"testing"
)

func TestParseEndpoints(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                      nil,
		" , ":                                   nil,
		"127.0.0.1:2379":                        {"127.0.0.1:2379"},
		" 10.0.0.1:2379 ,, 10.0.0.2:2379 ":      {"10.0.0.1:2379", "10.0.0.2:2379"},
		"http://etcd-0:2379,http://etcd-1:2379": {"http://etcd-0:2379", "http://etcd-1:2379"},
	} {
		if got := ParseEndpoints(in); !slices.Equal(got, want) {
			t.Errorf("ParseEndpoints(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigRefusesWhatCannotWork(t *testing.T) {
	if _, err := NewRegistry(Config{}); !errors.Is(err, ErrNoEndpoints) {
		t.Errorf("registry without endpoints: %v, want ErrNoEndpoints", err)
	}
	if _, err := NewResolver(Config{}); !errors.Is(err, ErrNoEndpoints) {
		t.Errorf("resolver without endpoints: %v, want ErrNoEndpoints", err)
	}
	if _, err := NewResolver(Config{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "a%vb"}); err == nil {
		t.Error("a prefix with a format verb was accepted: the registry's keys would be garbled")
	}
}
