package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// errUnknownKey is a credential that names no live key: not a bootstrap key, and not a
// stored key (unknown or revoked).
var errUnknownKey = errors.New("not a staff key")

// actorKey is the RequestContext key under which authentication leaves the Actor.
const actorKey = "admin.actor"

// isBootstrap reports whether got is a bootstrap key (Config.Keys). It compares SHA-256
// digests in constant time and checks every key, so neither a key's bytes nor its length
// nor its position leak.
func (s *Server) isBootstrap(got string) bool {
	h := sha256.Sum256([]byte(got))
	match := 0
	for _, k := range s.keys {
		match |= subtle.ConstantTimeCompare(h[:], k[:])
	}
	return match == 1
}

// keyActor returns who secret stands for: campaign.BootstrapActor for a bootstrap key,
// else the stored key's actor, from the cache or the store. errUnknownKey when it is
// neither; a store failure as the store reports it.
func (s *Server) keyActor(ctx context.Context, secret string) (campaign.Actor, error) {
	if s.isBootstrap(secret) {
		return campaign.BootstrapActor, nil
	}
	if s.deps.Campaigns == nil || secret == "" {
		return campaign.Actor{}, errUnknownKey
	}
	h := sha256.Sum256([]byte(secret))
	if a, ok := s.keyCache.get(h); ok {
		return a, nil
	}
	gen := s.keyCache.generation()
	k, err := s.deps.Campaigns.KeyBySecret(ctx, secret)
	if errors.Is(err, campaign.ErrNotFound) {
		return campaign.Actor{}, errUnknownKey
	}
	if err != nil {
		return campaign.Actor{}, fmt.Errorf("staff key: %w", err)
	}
	a := campaign.Actor{KeyID: k.ID, Name: k.Name, Role: k.Role}
	s.keyCache.put(h, a, gen)
	return a, nil
}

// bearer is the request's bearer token, if any.
func bearer(c *app.RequestContext) (string, bool) {
	return strings.CutPrefix(string(c.GetHeader("Authorization")), "Bearer ")
}

// credentials finds the request's actor: its bearer key, else (when cookies count) its
// session. ok is false when neither names a live key; err is a failure to tell.
func (s *Server) credentials(ctx context.Context, c *app.RequestContext, cookies bool) (a campaign.Actor, ok bool, err error) {
	if secret, has := bearer(c); has {
		a, err := s.keyActor(ctx, secret)
		if err == nil {
			return a, true, nil
		}
		if !errors.Is(err, errUnknownKey) {
			return campaign.Actor{}, false, err
		}
	}
	if cookies {
		if sess, ok := s.sessions.get(string(c.Cookie(SessionCookie))); ok {
			c.Set(csrfKey, sess.csrf)
			return sess.actor, true, nil
		}
	}
	return campaign.Actor{}, false, nil
}

// CSRFHeader carries, on a state-changing request authenticated by the session cookie,
// the session's CSRF token: the console's pages hold it (CSRFToken) and their scripts
// send it. A form posts it in the field CSRFField instead.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf"
)

// csrfKey is the RequestContext key under which credentials leaves the session's CSRF
// token when the cookie authenticated the request.
const csrfKey = "admin.csrf"

// CSRFToken is the CSRF token of the session that authenticated the request, "" when a
// bearer key did (a key is not sent by the browser on its own: nothing to forge).
func CSRFToken(c *app.RequestContext) string { return c.GetString(csrfKey) }

// checkCSRF refuses a state-changing request (any method but GET, HEAD, OPTIONS) that
// the session cookie authenticated without the session's CSRF token, in CSRFHeader or
// the form field CSRFField, with 403 csrf_failed. SameSite=Strict already keeps other
// sites' pages from sending the cookie; the token also covers a browser or proxy that
// does not honour it, and a page of another application on the same site.
func checkCSRF(c *app.RequestContext) bool {
	want := CSRFToken(c)
	switch string(c.Method()) {
	case "GET", "HEAD", "OPTIONS":
		return true
	}
	if want == "" {
		return true
	}
	got := string(c.GetHeader(CSRFHeader))
	if got == "" {
		got = string(c.PostForm(CSRFField))
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
		return true
	}
	writeError(c, http.StatusForbidden, errorBody{Code: CodeCSRFFailed,
		Message: "a change made with the session cookie must carry the session's CSRF token (" + CSRFHeader + ")"})
	return false
}

// requireStaff admits a staff key or a session cookie: the JSON API, which scripts call
// with the key and the pages' users may open in the same browser. It leaves the actor for
// allow and the handlers.
func (s *Server) requireStaff(ctx context.Context, c *app.RequestContext) {
	a, ok, err := s.credentials(ctx, c, true)
	switch {
	case err != nil:
		s.fail(ctx, c, "staff key", err)
	case !ok:
		unauthenticated(c)
	case !checkCSRF(c):
	default:
		c.Set(actorKey, a)
		c.Next(ctx)
	}
}

// adminKey admits a bearer key (no cookie) whose role may manage the server, for what:
// OTLP ingest, which other processes call with the admin key, and the Go profiles.
func (s *Server) adminKey(what string) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		a, ok, err := s.credentials(ctx, c, false)
		switch {
		case err != nil:
			s.fail(ctx, c, "staff key", err)
		case !ok:
			unauthenticated(c)
		case a.Role != campaign.RoleAdmin:
			forbidden(c, a, what)
		default:
			c.Set(actorKey, a)
			c.Next(ctx)
		}
	}
}

// requirePage admits a staff key or a session cookie, and sends anyone else to the
// login page, which brings them back here afterwards.
func (s *Server) requirePage(ctx context.Context, c *app.RequestContext) {
	a, ok, err := s.credentials(ctx, c, true)
	switch {
	case err != nil:
		s.fail(ctx, c, "staff key", err)
	case !ok:
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusSeeOther, []byte(loginPage+"?next="+url.QueryEscape(string(c.Request.RequestURI()))))
		c.Abort()
	default:
		c.Set(actorKey, a)
		c.Next(ctx)
	}
}

// allow admits an actor (left by requireStaff) whose role grants p; what says, for the
// 403, what the route does ("start campaigns").
func allow(p campaign.Permission, what string) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		a, _ := c.Value(actorKey).(campaign.Actor)
		if !a.Role.Allows(p) {
			forbidden(c, a, what)
			return
		}
		c.Next(ctx)
	}
}

func forbidden(c *app.RequestContext, a campaign.Actor, what string) {
	writeError(c, http.StatusForbidden, errorBody{Code: CodeForbidden, Message: "role " + string(a.Role) + " may not " + what})
}

// actor is who makes the request, with the request's trace id (when it is traced) for the
// audit log.
func actor(ctx context.Context, c *app.RequestContext) campaign.Actor {
	a, _ := c.Value(actorKey).(campaign.Actor)
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		a.TraceID = sc.TraceID().String()
	}
	return a
}
