package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// The console's pages about people and changes: the merchants (list, search, import), the
// audit log, and the staff keys (admins only).

// merchantsView is the merchant list: the filters as typed, and a page of merchants.
type merchantsView struct {
	Search, Cities, Categories, Tags string // the form's fields; lists comma-separated
	Merchants                        []campaign.Merchant
	Problem                          string // a filter the store refused, said as its field
	Next                             string // the URL of the next page, "" on the last
	Filtered                         bool
}

// merchantsPage serves GET /admin/console/merchants: live merchants in id order,
// filtered by text and attributes, a page at a time.
func (s *Server) merchantsPage(ctx context.Context, c *app.RequestContext) {
	v := merchantsView{Search: strings.TrimSpace(c.Query("search")), Cities: c.Query("city"),
		Categories: c.Query("category"), Tags: c.Query("tag")}
	q := campaign.MerchantQuery{Search: v.Search, After: c.Query("after"), Limit: consoleListPage,
		Segment: campaign.Segment{Cities: commaList(v.Cities), Categories: commaList(v.Categories), Tags: commaList(v.Tags)}}
	v.Filtered = q.Search != "" || !q.Segment.Empty()
	list, err := s.deps.Campaigns.ListMerchants(ctx, q)
	var fe *campaign.FieldError
	switch {
	case errors.As(err, &fe):
		v.Problem = strings.TrimPrefix(fe.Field, "segment.") + ": " + fe.Message
		s.render(ctx, c, http.StatusBadRequest, "merchants", v)
		return
	case err != nil:
		s.pageFail(ctx, c, "merchant list", err)
		return
	}
	v.Merchants = list
	if len(list) == consoleListPage {
		v.Next = pageLink("/merchants", map[string]string{"after": list[len(list)-1].ID,
			"search": v.Search, "city": v.Cities, "category": v.Categories, "tag": v.Tags})
	}
	s.render(ctx, c, http.StatusOK, "merchants", v)
}

// pageLink is the URL of a console page with the query parameters that are not empty:
// the next page of a list, its filters kept.
func pageLink(page string, params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	return consolePrefix + page + "?" + q.Encode()
}

// commaList splits a field of comma-separated values, dropping empty ones.
func commaList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// auditView is a page of the audit log and its filters.
type auditView struct {
	Target, ActorID, Action string
	Entries                 []campaign.AuditEntry
	Problem                 string
	Next                    string // the URL of the next (older) page, "" on the last
}

// auditPage serves GET /admin/console/audit: the audit log, newest first, filtered by
// target, actor and action as the API filters it.
func (s *Server) auditPage(ctx context.Context, c *app.RequestContext) {
	v := auditView{Target: strings.TrimSpace(c.Query("target")), ActorID: strings.TrimSpace(c.Query("actor")),
		Action: strings.TrimSpace(c.Query("action"))}
	q := campaign.AuditQuery{Target: v.Target, ActorID: v.ActorID, Action: v.Action, Limit: consoleListPage}
	if b := c.Query("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			v.Problem = "before: an audit entry id, as the link to older entries gives it"
			s.render(ctx, c, http.StatusBadRequest, "audit", v)
			return
		}
		q.BeforeID = n
	}
	entries, err := s.deps.Campaigns.Audit(ctx, q)
	if err != nil {
		s.pageFail(ctx, c, "audit log", err)
		return
	}
	v.Entries = entries
	if len(entries) == consoleListPage {
		v.Next = pageLink("/audit", map[string]string{"before": strconv.FormatInt(entries[len(entries)-1].ID, 10),
			"target": v.Target, "actor": v.ActorID, "action": v.Action})
	}
	s.render(ctx, c, http.StatusOK, "audit", v)
}

// keysView is the staff keys page.
type keysView struct {
	Keys  []campaign.Key
	Roles []campaign.Role
}

// keysPage serves GET /admin/console/keys, to admins: every stored key, and the form
// that creates one. Another role gets a page saying so (403), as the API would answer.
func (s *Server) keysPage(ctx context.Context, c *app.RequestContext) {
	if !actor(ctx, c).Role.Allows(campaign.PermManage) {
		s.render(ctx, c, http.StatusForbidden, "error", "Only an admin manages staff keys; your role is "+
			string(actor(ctx, c).Role)+".")
		return
	}
	keys, err := s.deps.Campaigns.ListKeys(ctx)
	if err != nil {
		s.pageFail(ctx, c, "key list", err)
		return
	}
	s.render(ctx, c, http.StatusOK, "keys", keysView{Keys: keys,
		Roles: []campaign.Role{campaign.RoleViewer, campaign.RoleAuthor, campaign.RoleSender, campaign.RoleAdmin}})
}

// auditLink is where an audit entry's target is seen in the console, "" when nowhere.
func auditLink(target string) string {
	kind, id, ok := strings.Cut(target, ":")
	if !ok || id == "" {
		return ""
	}
	switch kind {
	case "campaign":
		return consoleHome + "/" + url.PathEscape(id)
	case "merchant":
		return consolePrefix + "/merchants/" + url.PathEscape(id)
	case "key":
		return consolePrefix + "/keys#" + id
	}
	return ""
}

// merchantView is one merchant's page: its form, and the changes made to it.
type merchantView struct {
	campaign.Merchant
	New      bool
	Editable bool // the role may author
	Audit    []campaign.AuditEntry
}

// merchantPage serves GET /admin/console/merchants/{id}: the merchant's attributes (a form
// for roles with author), delete, ending its sessions (admins), and its audit trail.
func (s *Server) merchantPage(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	m, err := s.deps.Campaigns.GetMerchant(ctx, id)
	if err != nil {
		s.pageFail(ctx, c, "merchant "+id, err)
		return
	}
	audit, err := s.deps.Campaigns.Audit(ctx, campaign.AuditQuery{Target: "merchant:" + id, Limit: consoleAuditEntries})
	if err != nil {
		s.pageFail(ctx, c, "audit of merchant "+id, err)
		return
	}
	s.render(ctx, c, http.StatusOK, "merchant", merchantView{Merchant: m, Audit: audit,
		Editable: actor(ctx, c).Role.Allows(campaign.PermAuthor)})
}

// newMerchantPage serves GET /admin/console/merchants/new: the form that adds a merchant.
func (s *Server) newMerchantPage(ctx context.Context, c *app.RequestContext) {
	s.render(ctx, c, http.StatusOK, "merchant", merchantView{New: true,
		Editable: actor(ctx, c).Role.Allows(campaign.PermAuthor)})
}
