package admin

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// An import is read as a stream: a file far over MaxJSONBody goes through, in either
// format, and IM learns of every account.
func TestImport(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	_, author := h.newKey(campaign.RoleAuthor)
	const n = 20_000 // about 700 KB of CSV
	csv := importCSV("c", n)
	if len(csv) <= 4*MaxJSONBody {
		t.Fatalf("the file is only %d bytes", len(csv))
	}
	var rep campaign.ImportReport
	// Chunked: no length announced, so nothing but the stream tells its end.
	h.ok(200, &rep, "POST", importRoute, author, io.MultiReader(strings.NewReader(csv)), "Content-Type", "text/csv; charset=utf-8")
	if rep.Rows != n || rep.Created != n || rep.Rejected != 0 {
		t.Fatalf("CSV import: %+v", rep)
	}
	m, err := h.store.GetMerchant(t.Context(), fmt.Sprintf("c-%d", n))
	if err != nil || m.Name != fmt.Sprintf("Merchant %d", n) || m.City != "Paris" {
		t.Fatalf("last merchant imported: %+v %v", m, err)
	}
	_, ensured := h.logic.calls()
	if len(ensured) != n || ensured[0].Kind != "merchant" || ensured[0].UserId != "c-1" {
		t.Fatalf("IM learnt of %d accounts (first %+v), want %d", len(ensured), ensured[0], n)
	}

	nd := `{"id": "c-1", "name": "Renamed", "city": "Lyon", "category": "jobs", "tags": ["x"]}` + "\n" +
		`{"id": "n-1", "name": "New", "city": "Nice", "category": "housing", "tags": []}` + "\n"
	h.ok(200, &rep, "POST", importRoute, author, nd, "Content-Type", "application/x-ndjson")
	if rep.Rows != 2 || rep.Created != 1 || rep.Rejected != 0 {
		t.Fatalf("NDJSON import: %+v", rep)
	}
	if m, _ := h.store.GetMerchant(t.Context(), "c-1"); m.Name != "Renamed" || m.City != "Lyon" {
		t.Fatalf("updated by the import: %+v", m)
	}
	// Each import is one audit entry, by the key that made it.
	authorKey, err := h.store.KeyBySecret(t.Context(), author)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := h.store.Audit(t.Context(), campaign.AuditQuery{ActorID: authorKey.ID})
	if err != nil || len(entries) != 2 || entries[0].TraceID == "" {
		t.Fatalf("import audit entries: %+v %v", entries, err)
	}

	for _, ct := range []string{"application/json", "", "text/plain", "text/csv; charset"} {
		var hdr []string
		if ct != "" {
			hdr = []string{"Content-Type", ct}
		}
		a := h.do("POST", importRoute, author, "id,name\nx,y\n", hdr...)
		if e := apiError(t, a); a.status != 415 || e.Code != CodeUnsupportedMediaType {
			t.Errorf("import as %q: %d %+v, want 415", ct, a.status, e)
		}
	}
}

// An import over the limit is refused with 413, whether it announces its length or
// runs past the limit while read.
func TestImportLimit(t *testing.T) {
	h := newHarness(t, sqliteStore(t), func(s *Server) { s.maxImport = 4 << 10 })
	csv := importCSV("big", 500) // about 17 KB
	for name, body := range map[string]io.Reader{
		"declared": strings.NewReader(csv),
		"chunked":  io.MultiReader(strings.NewReader(csv)),
	} {
		a := h.do("POST", importRoute, key, body, "Content-Type", "text/csv")
		if e := apiError(t, a); a.status != 413 || e.Code != CodePayloadTooLarge {
			t.Errorf("%s: %d %+v, want 413", name, a.status, e)
		}
	}
	if list, _ := h.store.ListMerchants(t.Context(), campaign.MerchantQuery{}); len(list) != 0 {
		t.Fatalf("an import over the limit stored %d merchants", len(list))
	}
	var rep campaign.ImportReport
	h.ok(200, &rep, "POST", importRoute, key, importCSV("small", 10), "Content-Type", "text/csv")
	if rep.Created != 10 {
		t.Fatalf("an import under the limit: %+v", rep)
	}
}
