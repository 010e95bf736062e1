package edge

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/marketing/ratelimit"
)

func call(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	observed.record(method, resp.Request.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	return resp.StatusCode, b
}

func loginToken(t *testing.T, base, user, password string) string {
	t.Helper()
	code, _, body := post(t, base+"/v1/login", `{"user_id":"`+user+`","password":"`+password+`"}`)
	var lr loginResponse
	if code != 200 || json.Unmarshal(body, &lr) != nil {
		t.Fatalf("login %s: %d %s", user, code, body)
	}
	return lr.Token
}

// Logout revokes that token alone; a password change revokes every earlier token and
// answers a fresh one; a valid signature for a user that does not exist is refused.
func TestLogoutAndPasswordChange(t *testing.T) {
	base := startLimitedEdge(t, ratelimit.NewLocal(loginLimits(roomy, roomy), ratelimit.Options{}), prometheus.NewRegistry())
	phone, tablet := loginToken(t, base, "m1001", "demo"), loginToken(t, base, "m1001", "demo")

	if code, body := call(t, "POST", base+"/v1/logout", phone, ""); code != 200 {
		t.Fatalf("logout: %d %s", code, body)
	}
	if code, body := call(t, "POST", base+"/v1/logout", phone, ""); code != 401 || !strings.Contains(string(body), "revoked") {
		t.Fatalf("the logged-out token: %d %s, want 401 revoked", code, body)
	}
	// The other device's token still works (a wrong old password is its own mistake).
	if code, body := call(t, "POST", base+"/v1/password", tablet, `{"old_password":"wrong","password":"longenough"}`); code != 401 {
		t.Fatalf("wrong old password: %d %s, want 401", code, body)
	}
	if code, body := call(t, "POST", base+"/v1/password", tablet, `{"old_password":"demo","password":"short"}`); code != 400 {
		t.Fatalf("too short a new password: %d %s, want 400", code, body)
	}
	code, body := call(t, "POST", base+"/v1/password", tablet, `{"old_password":"demo","password":"longenough"}`)
	var lr loginResponse
	if code != 200 || json.Unmarshal(body, &lr) != nil || lr.Token == "" {
		t.Fatalf("password change: %d %s", code, body)
	}
	if code, _ := call(t, "POST", base+"/v1/logout", tablet, ""); code != 401 {
		t.Fatalf("a token from before the password change: %d, want 401", code)
	}
	if code, _, _ := post(t, base+"/v1/login", `{"user_id":"m1001","password":"demo"}`); code != 401 {
		t.Fatalf("the old password after the change: %d, want 401", code)
	}
	if code, body := call(t, "POST", base+"/v1/logout", lr.Token, ""); code != 200 {
		t.Fatalf("the fresh token: %d %s", code, body)
	}
}

func TestTokenOfUnknownUserRefused(t *testing.T) {
	base := startLimitedEdge(t, ratelimit.NewLocal(loginLimits(roomy, roomy), ratelimit.Options{}), prometheus.NewRegistry())
	tk := edgeTokens(t)
	token, _, err := tk.Issue("ghost", "merchant")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := call(t, "POST", base+"/v1/logout", token, ""); code != 401 {
		t.Fatalf("validly signed token of no user: %d %s, want 401", code, body)
	}
}
