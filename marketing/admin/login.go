package admin

import (
	"bytes"
	"context"
	"errors"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol"
)

// SessionCookie names the browser session cookie that POST /admin/login sets. It holds
// an opaque token, never the key, and is sent back on /admin paths only.
const SessionCookie = "bangbang_admin_session"

// The trace pages' home, and where the browser lands after logging out.
const (
	pagesHome = "/admin/traces"
	loginPage = "/admin/login"
)

// home is where a login lands unless the login page was given another page to return
// to: the console's campaigns when the console is served, else the trace list.
func (s *Server) home() string {
	if s.deps.Campaigns != nil {
		return consoleHome
	}
	return pagesHome
}

// loginForm serves GET /admin/login.
func (s *Server) loginForm(_ context.Context, c *app.RequestContext) {
	renderLogin(c, http.StatusOK, loginView{Next: returnTo(c.Query("next"), s.home())})
}

// login serves POST /admin/login: a staff key in the form field "key" opens a session,
// which acts as that key's actor (its role), and sets its cookie; anything else shows the
// form again with 401.
func (s *Server) login(ctx context.Context, c *app.RequestContext) {
	next := returnTo(c.PostForm("next"), s.home())
	if !s.admitLogin(ctx, c, next) {
		return
	}
	a, err := s.keyActor(ctx, c.PostForm("key"))
	if errors.Is(err, errUnknownKey) {
		if g := s.deps.Logins; g != nil {
			g.Failed()
		}
		s.log.WarnContext(ctx, "admin login refused", "remote", c.RemoteAddr().String())
		renderLogin(c, http.StatusUnauthorized, loginView{Next: next, Failed: true})
		return
	}
	if err != nil {
		s.fail(ctx, c, "staff key", err)
		return
	}
	if g := s.deps.Logins; g != nil {
		g.Succeeded()
	}
	token := s.sessions.start(a)
	c.SetCookie(SessionCookie, token, int(s.cfg.SessionTTL.Seconds()), "/admin", "",
		protocol.CookieSameSiteStrictMode, viaHTTPS(c), true)
	s.log.InfoContext(ctx, "admin session opened", "key", a.KeyID, "role", a.Role, "remote", c.RemoteAddr().String())
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, []byte(next))
}

// admitLogin charges one attempt to the client address's login budget (the TCP peer;
// forwarding headers are not trusted) before the key is looked at. Refused, it shows the
// form again with 429 and Retry-After, and reports false: while throttled even a right key
// is refused.
func (s *Server) admitLogin(ctx context.Context, c *app.RequestContext, next string) bool {
	g := s.deps.Logins
	if g == nil {
		return true
	}
	remote := c.RemoteAddr().String()
	d, _, err := g.Check(ctx, "", remote)
	if err != nil {
		s.fail(ctx, c, "login", err)
		return false
	}
	if d.Allowed {
		return true
	}
	s.log.WarnContext(ctx, "admin login throttled", "remote", remote, "retry_after", d.RetryAfter)
	for k, v := range ratelimit.Headers(d) {
		c.Header(k, v)
	}
	renderLogin(c, http.StatusTooManyRequests, loginView{Next: next, Throttled: true})
	return false
}

// logout serves POST /admin/logout: it ends the cookie's session, if any, and clears the
// cookie. SameSite=Strict keeps other sites from sending the cookie here.
func (s *Server) logout(_ context.Context, c *app.RequestContext) {
	if token := c.Cookie(SessionCookie); len(token) > 0 {
		s.sessions.close(string(token))
	}
	c.SetCookie(SessionCookie, "", -1, "/admin", "", protocol.CookieSameSiteStrictMode, viaHTTPS(c), true)
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, []byte(loginPage))
}

// viaHTTPS reports whether the browser reached the server over HTTPS: this server's own
// (Config.TLS), or a proxy's that says so in X-Forwarded-Proto. The cookie is then marked
// Secure; over plain HTTP a Secure cookie would never come back.
func viaHTTPS(c *app.RequestContext) bool {
	return string(c.URI().Scheme()) == "https" || strings.EqualFold(string(c.GetHeader("X-Forwarded-Proto")), "https")
}

// returnTo is where a login sends the browser: next when it is one of the pages of this
// server (under the trace pages' or the console's path; a path, nothing that could lead
// elsewhere), else home.
func returnTo(next, home string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Opaque != "" || u.User != nil || u.Host != "" ||
		strings.ContainsAny(next, `\`) || path.Clean(u.Path) != u.Path || !isPage(u.Path) {
		return home
	}
	return (&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String()
}

// isPage reports whether p, a clean path, is under the trace pages or the console.
func isPage(p string) bool {
	for _, root := range []string{pagesHome, consolePrefix} {
		if p == root || strings.HasPrefix(p, root+"/") {
			return true
		}
	}
	return false
}

type loginView struct {
	Next      string
	Failed    bool
	Throttled bool
}

var loginTemplate = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · bangbang admin</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
form { max-width: 22em; margin: 12vh auto 0; padding: 1.5em; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; }
h1 { font-size: 1.25em; margin: 0 0 1em; }
label { display: block; margin-bottom: .3em; }
input[type=password] { width: 100%; box-sizing: border-box; padding: .4em; margin-bottom: 1em; }
.problem { background: #ffebe9; border: 1px solid #cf222e; padding: .4em .6em; }
</style>
</head>
<body>
<form method="post" action="/admin/login">
<h1>bangbang admin</h1>
{{if .Failed}}<p class="problem" role="alert">That is not a staff key.</p>{{end}}
{{if .Throttled}}<p class="problem" role="alert">Too many attempts from this address. Wait a minute, then try again.</p>{{end}}
<label for="key">Staff key</label>
<input type="password" id="key" name="key" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{{.Next}}">
<button type="submit">Log in</button>
</form>
</body>
</html>
`))

func renderLogin(c *app.RequestContext, status int, v loginView) {
	var buf bytes.Buffer
	if err := loginTemplate.Execute(&buf, v); err != nil {
		writeError(c, http.StatusInternalServerError, errorBody{Code: CodeInternal, Message: "login page not rendered"})
		return
	}
	c.Header("Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
