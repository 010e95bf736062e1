package admin

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/internal/testcert"
)

// Served over its own TLS, the server speaks HTTPS only, logs in with a Secure session
// cookie that the console takes back, and says nothing to plain HTTP.
func TestServesHTTPS(t *testing.T) {
	cert := testcert.New(t)
	h := newHarness(t, sqliteStore(t), func(s *Server) { s.cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}} })
	base := "https://" + h.s.Addr().String()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := cl.PostForm(base+"/admin/login", url.Values{"key": {key}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.Secure || !session.HttpOnly ||
		session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login over HTTPS: %d, cookie %+v, want a Secure, HttpOnly, SameSite=Strict session", resp.StatusCode, session)
	}
	req, _ := http.NewRequest(http.MethodGet, base+consoleHome, nil)
	req.AddCookie(session)
	resp, err = cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the console over HTTPS with the session: %d", resp.StatusCode)
	}

	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get(strings.Replace(base, "https://", "http://", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("a TLS server answered plain HTTP with 200")
		}
	}
}

// The start-up probe accepts only the server's own certificate.
func TestOwnCertificate(t *testing.T) {
	mine, other := testcert.New(t).TLS, testcert.New(t).TLS
	verify := ownCertificate(&tls.Config{Certificates: []tls.Certificate{mine}}).VerifyPeerCertificate
	if err := verify(mine.Certificate, nil); err != nil {
		t.Errorf("its own certificate: %v", err)
	}
	if err := verify(other.Certificate, nil); err == nil {
		t.Error("another certificate accepted")
	}
	byFunc := ownCertificate(&tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &mine, nil }})
	if byFunc.VerifyPeerCertificate(mine.Certificate, nil) != nil || byFunc.VerifyPeerCertificate(other.Certificate, nil) == nil {
		t.Error("with GetCertificate, the probe does not hold the peer to what it gives")
	}
	if err := ownCertificate(&tls.Config{}).VerifyPeerCertificate(other.Certificate, nil); err != nil {
		t.Errorf("with certificates chosen per connection, any: %v", err)
	}
}
