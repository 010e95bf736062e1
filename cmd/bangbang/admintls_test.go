package main

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/internal/testcert"
	"github.com/bangbang-im/bangbang/marketing/admin"
)

// `bangbang admin` with a certificate serves the staff API over HTTPS only: health, the
// login with a Secure session cookie, the console behind it. A certificate without its
// key, or files that do not load, stop it before it starts.
func TestAdminServesHTTPS(t *testing.T) {
	t.Parallel()
	cert := testcert.New(t)
	certFile, keyFile := cert.Files(t)
	addr := freeAddr(t)
	start(t, "admin", []string{"BANGBANG_ADMIN_KEY=" + testAdminKey, "BANGBANG_ADMIN_TLS_KEY=" + keyFile}, []string{addr},
		"admin", "--data-dir", t.TempDir(), "--admin-addr", addr, "--logic-addr", freeAddr(t), "--admin-tls-cert", certFile)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "https://" + addr

	resp, err := cl.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz over HTTPS: %d", resp.StatusCode)
	}
	resp, err = cl.PostForm(base+"/admin/login", url.Values{"key": {testAdminKey}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == admin.SessionCookie {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/console/campaigns" || session == nil || !session.Secure {
		t.Fatalf("login over HTTPS: %d to %q, cookie %+v; want a Secure session landing on the console", resp.StatusCode, resp.Header.Get("Location"), session)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/admin/console/campaigns", nil)
	req.AddCookie(session)
	if resp, err = cl.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the console with the session: %d", resp.StatusCode)
	}
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 by a server given a certificate")
		}
	}

	// The CLI reaches it too, trusting the certificate through SSL_CERT_FILE as the
	// operations guide says: the answer is the API's (no such trace), not a TLS failure.
	cli := exec.Command(binary, "trace", "0123456789abcdef0123456789abcdef", "--admin", base, "--admin-key", testAdminKey)
	cli.Env = append(cleanEnv(), "SSL_CERT_FILE="+certFile)
	if out, _ := cli.CombinedOutput(); !strings.Contains(strings.ToLower(string(out)), "no such trace") {
		t.Errorf("bangbang trace over HTTPS:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--admin-tls-cert", certFile}, "--admin-tls-cert and --admin-tls-key go together"},
		{[]string{"--admin-tls-cert", keyFile, "--admin-tls-key", keyFile}, "admin TLS: "},
	} {
		cmd := exec.Command(binary, append([]string{"admin", "--data-dir", t.TempDir(), "--admin-addr", freeAddr(t)}, tc.args...)...)
		cmd.Env = append(cleanEnv(), "BANGBANG_ADMIN_KEY="+testAdminKey)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("admin %v: %v\n%s\nwant it to stop saying %q", tc.args, err, out, tc.want)
		}
	}
}
