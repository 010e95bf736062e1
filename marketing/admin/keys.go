package admin

import (
	"context"
	"net/http"
	"strconv"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// whoami serves GET /admin/v1/whoami: the actor the request's credentials stand for.
func (s *Server) whoami(ctx context.Context, c *app.RequestContext) {
	c.JSON(http.StatusOK, struct {
		campaign.Actor
		CSRFToken string `json:"csrf_token,omitempty"`
	}{actor(ctx, c), CSRFToken(c)})
}

// listKeys serves GET /admin/v1/keys: every stored key, revoked ones included.
func (s *Server) listKeys(ctx context.Context, c *app.RequestContext) {
	keys, err := s.deps.Campaigns.ListKeys(ctx)
	if err != nil {
		s.fail(ctx, c, "keys", err)
		return
	}
	c.JSON(http.StatusOK, map[string]any{"keys": keys})
}

type keyInput struct {
	Name string        `json:"name"`
	Role campaign.Role `json:"role"`
}

// createKey serves POST /admin/v1/keys: a new key, whose secret this answer shows once.
func (s *Server) createKey(ctx context.Context, c *app.RequestContext) {
	var in keyInput
	if !decodeJSON(c, &in) {
		return
	}
	k, secret, err := s.deps.Campaigns.CreateKey(ctx, actor(ctx, c), in.Name, in.Role)
	if err != nil {
		s.fail(ctx, c, "key", err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, map[string]any{"key": k, "secret": secret})
}

// revokeKey serves DELETE /admin/v1/keys/{id}. The key stops working at once on this
// server (its cache entry and browser sessions go with it), within KeyCacheTTL on others.
func (s *Server) revokeKey(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	if id == campaign.BootstrapActor.KeyID {
		writeError(c, http.StatusNotFound, errorBody{Code: CodeNotFound,
			Message: "the bootstrap key is configured (BANGBANG_ADMIN_KEY), not stored: it cannot be revoked here"})
		return
	}
	k, err := s.deps.Campaigns.RevokeKey(ctx, actor(ctx, c), id)
	if err != nil {
		s.fail(ctx, c, "key "+id, err)
		return
	}
	s.keyCache.forget(k.ID)
	s.sessions.closeKey(k.ID)
	c.JSON(http.StatusOK, k)
}

// audit serves GET /admin/v1/audit: entries newest first, filtered, a page at a time.
func (s *Server) audit(ctx context.Context, c *app.RequestContext) {
	q := campaign.AuditQuery{Target: c.Query("target"), ActorID: c.Query("actor"), Action: c.Query("action")}
	var ok bool
	if q.Limit, ok = pageLimit(c); !ok {
		return
	}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			badRequest(c, "before: an audit entry id, as the previous page's next gave it")
			return
		}
		q.BeforeID = n
	}
	entries, err := s.deps.Campaigns.Audit(ctx, q)
	if err != nil {
		s.fail(ctx, c, "audit entries", err)
		return
	}
	out := map[string]any{"entries": entries}
	if len(entries) > 0 && len(entries) == effectiveLimit(q.Limit) {
		out["next"] = strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	c.JSON(http.StatusOK, out)
}

// pageLimit reads the limit query parameter: absent means campaign.DefaultPage, else
// 1..campaign.MaxPage. It answers 400 and returns false otherwise.
func pageLimit(c *app.RequestContext) (int, bool) {
	v := c.Query("limit")
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > campaign.MaxPage {
		badRequest(c, "limit: an integer from 1 to "+strconv.Itoa(campaign.MaxPage))
		return 0, false
	}
	return n, true
}

// effectiveLimit is the page size the store applies to limit: a full page means there
// may be another.
func effectiveLimit(limit int) int {
	if limit <= 0 {
		return campaign.DefaultPage
	}
	return min(limit, campaign.MaxPage)
}
