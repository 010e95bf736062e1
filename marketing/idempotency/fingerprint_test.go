package idempotency

import "testing"

func TestFingerprint(t *testing.T) {
	base := Fingerprint("POST", "/v1/credits/purchase", "m1001", []byte(`{"package":"p100"}`))
	// Pinned (sha256 over 8-byte big-endian length-prefixed fields): edge
	// processes of two versions must agree during a rollout.
	const want = "6b3dbedece4cb7ae38ea572e1299e6514ba766580e87e656745dcab910e74f29"
	if base != want {
		t.Fatalf("fingerprint %s, want %s", base, want)
	}
	for name, other := range map[string]string{
		"method":   Fingerprint("PUT", "/v1/credits/purchase", "m1001", []byte(`{"package":"p100"}`)),
		"route":    Fingerprint("POST", "/v1/listings/l1/promote", "m1001", []byte(`{"package":"p100"}`)),
		"merchant": Fingerprint("POST", "/v1/credits/purchase", "m1002", []byte(`{"package":"p100"}`)),
		"body":     Fingerprint("POST", "/v1/credits/purchase", "m1001", []byte(`{"package":"p500"}`)),
		"boundary": Fingerprint("POST", "/v1/credits/purchase", "m100", []byte(`1{"package":"p100"}`)),
	} {
		if other == base {
			t.Errorf("%s change kept the fingerprint", name)
		}
	}
}
