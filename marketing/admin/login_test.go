package admin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// loginWith posts the login form.
func loginWith(t *testing.T, base, staffKey, next string, hdr ...string) answer {
	t.Helper()
	form := url.Values{"key": {staffKey}}
	if next != "" {
		form.Set("next", next)
	}
	hdr = append(hdr, "Content-Type", "application/x-www-form-urlencoded")
	return send(t, http.MethodPost, base+"/admin/login", strings.NewReader(form.Encode()), hdr...)
}

// sessionCookie is the session cookie an answer sets, or nil.
func sessionCookie(a answer) *http.Cookie {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

func withCookie(c *http.Cookie) []string { return []string{"Cookie", c.Name + "=" + c.Value} }

func TestPagesSendStrangersToLogin(t *testing.T) {
	s, store := start(t)
	base := "http://" + s.Addr().String()
	id := storeTrace(t, store).String()
	for _, tc := range []struct {
		target string
		hdr    []string
	}{
		{"/admin/traces", nil},
		{"/admin/traces/" + id + "?x=1", nil},
		{"/admin/traces", []string{"Authorization", "Bearer wrong-key-0123456789"}},
		{"/admin/traces", []string{"Cookie", SessionCookie + "=" + key}}, // the key is not a session
		{"/admin/traces", []string{"Cookie", SessionCookie + "=ABCDEFGHIJKLMNOPQRSTUVWXYZ"}},
	} {
		a := send(t, http.MethodGet, base+tc.target, nil, tc.hdr...)
		if want := "/admin/login?next=" + url.QueryEscape(tc.target); a.status != http.StatusSeeOther || a.header.Get("Location") != want {
			t.Errorf("GET %s %v: %d to %q, want 303 to %q", tc.target, tc.hdr, a.status, a.header.Get("Location"), want)
		}
	}
}

func TestLoginLogout(t *testing.T) {
	s, store := start(t)
	base := "http://" + s.Addr().String()
	id := storeTrace(t, store).String()
	page := "/admin/traces/" + id

	// The form carries where to come back to, escaped.
	a := send(t, http.MethodGet, base+"/admin/login?next="+url.QueryEscape(page+"?a=1&b=2"), nil)
	if a.status != 200 || !strings.Contains(a.body, `<input type="password" id="key" name="key"`) ||
		!strings.Contains(a.body, `name="next" value="`+page+`?a=1&amp;b=2"`) ||
		a.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("login form: %d %v\n%s", a.status, a.header, a.body)
	}

	// A wrong or missing key gets the form again, with 401 and no cookie.
	for _, k := range []string{"wrong-key-0123456789", "", key + " "} {
		a := loginWith(t, base, k, page)
		if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "That is not a staff key.") || sessionCookie(a) != nil {
			t.Errorf("login with %q: %d, cookie %v\n%s", k, a.status, sessionCookie(a), a.body)
		}
	}

	// The key opens a session: an opaque cookie, HttpOnly, SameSite=Strict, on /admin.
	a = loginWith(t, base, key, page)
	c := sessionCookie(a)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != page || c == nil {
		t.Fatalf("login: %d to %q, cookie %v", a.status, a.header.Get("Location"), c)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin" || c.MaxAge != 12*3600 || c.Secure ||
		len(c.Value) < 26 || strings.Contains(c.Value, key) {
		t.Errorf("session cookie %+v", c)
	}

	// The cookie opens the pages and the JSON API, not ingest.
	if a := send(t, http.MethodGet, base+page, nil, withCookie(c)...); a.status != 200 || !strings.Contains(a.body, "RefreshListing") {
		t.Fatalf("trace page with the cookie: %d %.300s", a.status, a.body)
	}
	if a := send(t, http.MethodGet, base+"/admin/traces?error=true", nil, withCookie(c)...); a.status != 200 || !strings.Contains(a.body, page) {
		t.Fatalf("list page with the cookie: %d %.300s", a.status, a.body)
	}
	if a := send(t, http.MethodGet, base+"/admin/traces?limit=x", nil, withCookie(c)...); a.status != 400 {
		t.Errorf("list page with a bad filter: %d, want 400", a.status)
	}
	if a := send(t, http.MethodGet, base+"/admin/traces/xyz", nil, withCookie(c)...); a.status != 400 {
		t.Errorf("trace page with a bad id: %d, want 400", a.status)
	}
	if a := send(t, http.MethodGet, base+"/admin/traces/0102030405060708090a0b0c0d0e0f10", nil, withCookie(c)...); a.status != 404 {
		t.Errorf("trace page of an unknown trace: %d, want 404", a.status)
	}
	if a := send(t, http.MethodGet, base+"/admin/v1/traces/"+id, nil, withCookie(c)...); a.status != 200 {
		t.Errorf("JSON trace with the cookie: %d", a.status)
	}
	if a := send(t, http.MethodPost, base+"/v1/traces", strings.NewReader(""),
		append(withCookie(c), "Content-Type", "application/x-protobuf")...); a.status != 401 {
		t.Errorf("ingest with the cookie: %d, want 401", a.status)
	}

	// A second session is another token; logging out of one leaves the other.
	other := sessionCookie(loginWith(t, base, key, ""))
	if other == nil || other.Value == c.Value {
		t.Fatalf("second session %v", other)
	}
	a = send(t, http.MethodPost, base+"/admin/logout", nil, withCookie(c)...)
	if cleared := sessionCookie(a); a.status != http.StatusSeeOther || a.header.Get("Location") != "/admin/login" ||
		cleared == nil || cleared.Value != "" || cleared.MaxAge >= 0 || cleared.Path != "/admin" {
		t.Fatalf("logout: %d to %q, cookie %+v", a.status, a.header.Get("Location"), cleared)
	}
	if a := send(t, http.MethodGet, base+page, nil, withCookie(c)...); a.status != http.StatusSeeOther {
		t.Errorf("page after logout: %d, want 303", a.status)
	}
	if a := send(t, http.MethodGet, base+"/admin/v1/traces", nil, withCookie(c)...); a.status != http.StatusUnauthorized {
		t.Errorf("JSON API after logout: %d, want 401", a.status)
	}
	if a := send(t, http.MethodGet, base+"/admin/traces", nil, withCookie(other)...); a.status != 200 {
		t.Errorf("the other session after logout: %d, want 200", a.status)
	}
	if s.sessions.len() != 1 {
		t.Errorf("%d sessions held, want 1", s.sessions.len())
	}
	// Logging out without a session is harmless.
	if a := send(t, http.MethodPost, base+"/admin/logout", nil); a.status != http.StatusSeeOther {
		t.Errorf("logout without a session: %d", a.status)
	}
}

func TestLoginBehindHTTPSProxySetsSecure(t *testing.T) {
	s, _ := start(t)
	a := loginWith(t, "http://"+s.Addr().String(), key, "", "X-Forwarded-Proto", "https")
	if c := sessionCookie(a); a.status != http.StatusSeeOther || a.header.Get("Location") != "/admin/traces" || c == nil || !c.Secure {
		t.Fatalf("login via HTTPS: %d to %q, cookie %+v", a.status, a.header.Get("Location"), c)
	}
}

// After logging in the browser goes back to a page of this server (a trace page or the
// console), never elsewhere; anything else lands on home.
func TestReturnTo(t *testing.T) {
	for next, want := range map[string]string{
		"":                                      consoleHome,
		"/admin/traces":                         "/admin/traces",
		"/admin/traces?service=edge&x=1":        "/admin/traces?service=edge&x=1",
		"/admin/traces/0af7651916cd43dd":        "/admin/traces/0af7651916cd43dd",
		"/admin/console/campaigns":              "/admin/console/campaigns",
		"/admin/console/campaigns/cmp_1/edit":   "/admin/console/campaigns/cmp_1/edit",
		"/admin/console/campaigns?after=cmp_9":  "/admin/console/campaigns?after=cmp_9",
		"/admin/tracesX":                        consoleHome,
		"/admin/consoleX":                       consoleHome,
		"/admin/traces/../login":                consoleHome,
		"/admin/console/../v1/keys":             consoleHome,
		"/admin/traces/":                        consoleHome,
		"/admin/v1/traces":                      consoleHome,
		"/admin/static/console.js":              consoleHome,
		"//evil.example/admin/traces":           consoleHome,
		"https://evil.example/admin/traces":     consoleHome,
		"https://evil.example/admin/console":    consoleHome,
		`/\evil.example/admin/traces`:           consoleHome,
		"/admin/traces/%2F%2Fevil.example":      consoleHome,
		"/admin/console/%2F%2Fevil.example":     consoleHome,
		"javascript:alert(1)":                   consoleHome,
		"/admin/traces\r\nSet-Cookie: x=1":      consoleHome,
		"/admin/console/campaigns\r\nLocation:": consoleHome,
	} {
		if got := returnTo(next, consoleHome); got != want {
			t.Errorf("returnTo(%q) = %q, want %q", next, got, want)
		}
	}
	if got := returnTo("https://evil.example", pagesHome); got != pagesHome {
		t.Errorf("returnTo without the console = %q, want %q", got, pagesHome)
	}
}

// Whatever a login page is given, the browser goes to a page of this server.
func FuzzReturnTo(f *testing.F) {
	for _, s := range []string{"/admin/traces/0af7?x=1", "//evil.example", `/\x`, "/admin/traces/%2e%2e/login", "http://x",
		"/admin/console/campaigns/cmp_1", "/admin/console/%2e%2e/v1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := returnTo(next, consoleHome)
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") ||
			!isUnder(u.Path, "/admin/traces", "/admin/console") || strings.Contains(u.Path, "..") {
			t.Fatalf("returnTo(%q) = %q", next, got)
		}
	})
}

// isUnder reports whether p is one of roots or below one.
func isUnder(p string, roots ...string) bool {
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}
