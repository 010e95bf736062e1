package admin

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// merchantFields are what PUT /admin/v1/merchants/{id} takes: every attribute but the id.
type merchantFields struct {
	Name     string   `json:"name"`
	City     string   `json:"city"`
	Category string   `json:"category"`
	Tags     []string `json:"tags"`
}

// merchantInput is what POST /admin/v1/merchants takes. (Embedding merchantFields would
// put its Go name into the field paths of decoding errors.)
type merchantInput struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	City     string   `json:"city"`
	Category string   `json:"category"`
	Tags     []string `json:"tags"`
}

func (f merchantFields) merchant(id string) campaign.Merchant {
	return campaign.Merchant{ID: id, Name: f.Name, City: f.City, Category: f.Category, Tags: f.Tags}
}

// listMerchants serves GET /admin/v1/merchants: live merchants in id order, filtered by
// attribute and id prefix, a page at a time.
func (s *Server) listMerchants(ctx context.Context, c *app.RequestContext) {
	args := c.QueryArgs()
	var q campaign.MerchantQuery
	for _, v := range args.PeekAll("city") {
		q.Cities = append(q.Cities, string(v))
	}
	for _, v := range args.PeekAll("category") {
		q.Categories = append(q.Categories, string(v))
	}
	for _, v := range args.PeekAll("tag") {
		q.Tags = append(q.Tags, string(v))
	}
	q.Prefix, q.Search, q.After = c.Query("prefix"), c.Query("search"), c.Query("after")
	var ok bool
	if q.Limit, ok = pageLimit(c); !ok {
		return
	}
	list, err := s.deps.Campaigns.ListMerchants(ctx, q)
	var fe *campaign.FieldError
	if errors.As(err, &fe) {
		// The filters are query parameters, not a body: a bad one is a bad request, named
		// as the query names it.
		param := fe.Field
		for from, to := range map[string]string{"segment.cities": "city", "segment.categories": "category", "segment.tags": "tag"} {
			if rest, ok := strings.CutPrefix(param, from); ok {
				param = to + rest
			}
		}
		badRequest(c, param+": "+fe.Message)
		return
	}
	if err != nil {
		s.fail(ctx, c, "merchants", err)
		return
	}
	out := map[string]any{"merchants": list}
	if len(list) > 0 && len(list) == effectiveLimit(q.Limit) {
		out["next"] = list[len(list)-1].ID
	}
	c.JSON(http.StatusOK, out)
}

// createMerchant serves POST /admin/v1/merchants. IM learns of the merchant's account
// first (logic's EnsureUsers, which is idempotent), so a campaign can reach it as soon as
// it is stored.
func (s *Server) createMerchant(ctx context.Context, c *app.RequestContext) {
	var in merchantInput
	if !decodeJSON(c, &in) {
		return
	}
	m := campaign.Merchant{ID: in.ID, Name: in.Name, City: in.City, Category: in.Category, Tags: in.Tags}
	if err := campaign.ValidateMerchant(&m); err != nil {
		s.fail(ctx, c, "merchant", err)
		return
	}
	// A live merchant of this id is a conflict before IM hears of it (and renames it).
	if _, err := s.deps.Campaigns.GetMerchant(ctx, m.ID); err == nil {
		s.fail(ctx, c, "merchant "+m.ID, campaign.ErrConflict)
		return
	} else if !errors.Is(err, campaign.ErrNotFound) {
		s.fail(ctx, c, "merchant "+m.ID, err)
		return
	}
	_, err := s.deps.Logic.EnsureUsers(ctx, &logicgen.EnsureUsersRequest{Users: []*logicgen.UserInfo{
		{UserId: m.ID, Kind: "merchant", DisplayName: m.Name}}})
	if err != nil {
		s.fail(ctx, c, "merchant "+m.ID, err)
		return
	}
	m, err = s.deps.Campaigns.CreateMerchant(ctx, actor(ctx, c), m)
	if err != nil {
		s.fail(ctx, c, "merchant "+in.ID, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

// getMerchant serves GET /admin/v1/merchants/{id}.
func (s *Server) getMerchant(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	m, err := s.deps.Campaigns.GetMerchant(ctx, id)
	if err != nil {
		s.fail(ctx, c, "merchant "+id, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

// updateMerchant serves PUT /admin/v1/merchants/{id}: it replaces every attribute.
func (s *Server) updateMerchant(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	var in merchantFields
	if !decodeJSON(c, &in) {
		return
	}
	m, err := s.deps.Campaigns.UpdateMerchant(ctx, actor(ctx, c), in.merchant(id))
	if err != nil {
		s.fail(ctx, c, "merchant "+id, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

// deleteMerchant serves DELETE /admin/v1/merchants/{id}.
func (s *Server) deleteMerchant(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	if err := s.deps.Campaigns.DeleteMerchant(ctx, actor(ctx, c), id); err != nil {
		s.fail(ctx, c, "merchant "+id, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// revokeSessions serves POST /admin/v1/merchants/{id}/revoke-sessions: every token the
// merchant holds is revoked (the app must log in again) and their live IM sessions are
// closed with KICK AUTH_REVOKED. Audited as merchant.revoke_sessions.
func (s *Server) revokeSessions(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	resp, err := s.deps.Logic.RevokeTokens(ctx, &logicgen.RevokeTokensRequest{UserId: id, UntilMs: time.Now().UnixMilli()})
	if err != nil {
		s.fail(ctx, c, "merchant "+id, err)
		return
	}
	out := revokeSessionsResponse{Merchant: id, IMSessionsClosed: int(resp.Kicked)}
	if err := s.deps.Campaigns.RecordAudit(ctx, actor(ctx, c), "merchant.revoke_sessions", "merchant:"+id, nil, out); err != nil {
		// The revocation stands; only its record is missing: say so in the log.
		s.log.ErrorContext(ctx, "audit revoke-sessions", "merchant", id, "err", err)
	}
	c.JSON(http.StatusOK, out)
}

type revokeSessionsResponse struct {
	Merchant         string `json:"merchant"`
	IMSessionsClosed int    `json:"im_sessions_closed"`
}

// importFormats maps an import's media type to campaign.Import's format.
var importFormats = map[string]string{"text/csv": "csv", "application/x-ndjson": "ndjson"}

// importMerchants serves POST /admin/v1/merchants/import: a CSV or NDJSON file of
// merchants, read as a stream (never held whole in memory), up to MaxImportBody.
func (s *Server) importMerchants(ctx context.Context, c *app.RequestContext) {
	mt, _, err := mime.ParseMediaType(string(c.Request.Header.ContentType()))
	format, ok := importFormats[mt]
	if err != nil || !ok {
		writeError(c, http.StatusUnsupportedMediaType, errorBody{Code: CodeUnsupportedMediaType,
			Message: "an import is text/csv or application/x-ndjson"})
		return
	}
	if int64(c.Request.Header.ContentLength()) > s.maxImport {
		tooLarge(c, s.maxImport)
		return
	}
	src := c.RequestBodyStream()
	if !c.Request.IsBodyStream() {
		src = bytes.NewReader(c.Request.Body())
	}
	body := &cappedReader{r: src, n: s.maxImport}
	rep, err := campaign.Import(ctx, s.deps.Campaigns, s.deps.Logic, actor(ctx, c), body, format)
	switch {
	case body.over:
		tooLarge(c, s.maxImport)
	case err != nil:
		s.fail(ctx, c, "import", err)
	default:
		c.JSON(http.StatusOK, rep)
	}
}

// countAudience serves POST /admin/v1/audience/count: how many live merchants an
// audience reaches now.
func (s *Server) countAudience(ctx context.Context, c *app.RequestContext) {
	var aud campaign.Audience
	if !decodeJSON(c, &aud) {
		return
	}
	n, err := s.deps.Campaigns.CountAudience(ctx, aud)
	if err != nil {
		s.fail(ctx, c, "audience", err)
		return
	}
	c.JSON(http.StatusOK, map[string]int64{"count": n})
}
