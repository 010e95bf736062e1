package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func newTokens(t *testing.T, clock *time.Time) *Tokens {
	t.Helper()
	tk, err := NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, func() time.Time { return *clock })
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTokenRoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tk := newTokens(t, &now)
	s, exp, err := tk.Issue("m1001", "merchant")
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("expiry %v, want %v", exp, now.Add(time.Hour))
	}
	c, err := tk.Verify(s)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != "m1001" || c.Kind != "merchant" || !c.ExpiresAt.Equal(exp) {
		t.Fatalf("claims %+v", c)
	}
}

func TestTokenRejections(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tk := newTokens(t, &now)
	good, _, err := tk.Issue("c1001", "customer")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewTokens([]byte(strings.Repeat("x", 32)), time.Hour, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	forged, _, _ := other.Issue("c1001", "customer")
	parts := strings.Split(good, ".")
	noneAlg := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]

	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"empty", "", ErrTokenInvalid},
		{"garbage", "not.a.token", ErrTokenInvalid},
		{"other key", forged, ErrTokenInvalid},
		{"alg none", noneAlg, ErrTokenInvalid},
		{"tampered", tampered, ErrTokenInvalid},
		{"huge", strings.Repeat("a", 5000), ErrTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tk.Verify(tc.token); !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}

	now = now.Add(time.Hour + time.Second)
	if _, err := tk.Verify(good); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("after expiry: %v, want ErrTokenExpired", err)
	}
}

func TestShortSecretRefused(t *testing.T) {
	if _, err := NewTokens([]byte("short"), 0, nil); err == nil {
		t.Fatal("short secret accepted")
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPassword(h, "demo"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for _, p := range []string{"", "Demo", "demo ", strings.Repeat("d", 73)} {
		if err := CheckPassword(h, p); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("password %q: %v", p, err)
		}
	}
}

// An unknown or passwordless user costs the same bcrypt comparison as a wrong password,
// and never matches.
func TestCheckPasswordWithoutHashDoesTheWork(t *testing.T) {
	good, err := HashPassword("right")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		hash []byte
		pw   string
	}{{"wrong password", good, "wrong"}, {"no hash", nil, "right"}, {"no hash, empty password", nil, ""}, {"over-long password", good, strings.Repeat("p", 73)}} {
		before := compares.Load()
		if err := CheckPassword(tc.hash, tc.pw); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: %v, want ErrBadCredentials", tc.name, err)
		}
		if compares.Load() != before+1 {
			t.Errorf("%s: refused without a bcrypt comparison", tc.name)
		}
	}
	if err := CheckPassword(good, "right"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := CheckPassword(decoyHash(), ""); err == nil {
		t.Fatal("the decoy hash matched")
	}
}
