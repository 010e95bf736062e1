package main

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/internal/testcert"
)

// A renewed certificate is served once its files change and the interval has passed; a
// pair that does not load leaves the one served before.
func TestCertReloader(t *testing.T) {
	a, b := testcert.New(t), testcert.New(t)
	certFile, keyFile := a.Files(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := newCertReloader(certFile, keyFile, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r.now, r.lookedAt = func() time.Time { return clock }, clock
	serving := func() []byte {
		c, err := r.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificate[0]
	}
	if !bytes.Equal(serving(), a.TLS.Certificate[0]) {
		t.Fatal("not serving the certificate loaded")
	}
	write := func(certPEM, keyPEM []byte, at time.Time) {
		for f, b := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(f, at, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(b.CertPEM, b.KeyPEM, time.Now().Add(time.Minute))
	clock = clock.Add(10 * time.Second)
	if !bytes.Equal(serving(), a.TLS.Certificate[0]) {
		t.Error("the files were looked at before the interval passed")
	}
	clock = clock.Add(30 * time.Second)
	if !bytes.Equal(serving(), b.TLS.Certificate[0]) {
		t.Error("the renewed certificate is not served after the interval")
	}
	write([]byte("not a certificate"), b.KeyPEM, time.Now().Add(2*time.Minute))
	clock = clock.Add(time.Minute)
	if !bytes.Equal(serving(), b.TLS.Certificate[0]) {
		t.Error("a pair that does not load replaced the one served")
	}
	if _, err := newCertReloader(certFile, keyFile, time.Second); err == nil {
		t.Error("a pair that does not load was accepted at start")
	}
}
