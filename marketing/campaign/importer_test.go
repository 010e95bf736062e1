package campaign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// rowsReader generates an import file of n merchant rows on the fly, never holding it:
// what a 1M-row upload looks like to Import.
type rowsReader struct {
	header string
	row    func(i int) string
	n, i   int
	buf    bytes.Buffer
}

func (r *rowsReader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.i <= r.n {
		if r.i == 0 {
			r.buf.WriteString(r.header)
		} else {
			r.buf.WriteString(r.row(r.i))
		}
		r.i++
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

// A 100k-row import (10k with -short) in each format and each dialect: every row stored, IM told of every
// account, each batch in one transaction; bad rows reported by line.
func TestImport100k(t *testing.T) {
	n := 100_000
	if testing.Short() { // make race: the size proves nothing about races, and costs minutes there
		n = 10_000
	}
	cities := []string{"Shanghai", "Beijing", "Shenzhen", "Hangzhou"}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s, lg := b.open(t), newLogic(t)
			src := &rowsReader{header: "id,name,city,category,tags\n", n: n, row: func(i int) string {
				if i%(n/4) == 0 {
					return fmt.Sprintf("bad id %d,Merchant,Paris,,\n", i) // rejected: a space in the id
				}
				return fmt.Sprintf("i%06d,\"Merchant, %d\",%s,housing,vip;Active\n", i, i, cities[i%len(cities)])
			}}
			rep, err := Import(t.Context(), s, lg, staff, src, FormatCSV)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Rows != int64(n) || rep.Created != int64(n-4) || rep.Updated != 0 || rep.Rejected != 4 || len(rep.Errors) != 4 {
				t.Fatalf("report %+v", rep)
			}
			if e := rep.Errors[0]; e.Line != int64(n/4+1) || e.Field != "id" || e.ID != "" {
				t.Fatalf("first rejected row: %+v", e)
			}
			m, err := s.GetMerchant(t.Context(), fmt.Sprintf("i%06d", n-1))
			if err != nil || m.Name != fmt.Sprintf("Merchant, %d", n-1) || m.City != "Hangzhou" || !slices.Equal(m.Tags, []string{"active", "vip"}) {
				t.Fatalf("last merchant: %+v %v", m, err)
			}
			count, err := s.CountAudience(t.Context(), Audience{Segment: &Segment{Cities: []string{"Shanghai"}, Tags: []string{"vip"}}})
			if err != nil || count != int64(n/4-4) { // i%4 == 0 is Shanghai, and so are the 4 rejected rows
				t.Fatalf("Shanghai vip: %d %v", count, err)
			}
			users, err := lg.EnsureUsers(t.Context(), &logicgen.EnsureUsersRequest{Users: []*logicgen.UserInfo{
				{UserId: "i000001", Kind: "merchant", DisplayName: "x"}, {UserId: fmt.Sprintf("i%06d", n-1), Kind: "merchant", DisplayName: "x"}}})
			if err != nil || users.Created != 0 {
				t.Fatalf("IM does not know the imported accounts: %+v %v", users, err)
			}

			// The same rows as NDJSON replace what the ids hold.
			nd := &rowsReader{n: n, row: func(i int) string {
				return fmt.Sprintf(`{"id":"i%06d","name":"Renamed %d","city":"Chengdu","category":"jobs","tags":[]}`+"\n", i, i)
			}}
			rep, err = Import(t.Context(), s, lg, staff, nd, FormatNDJSON)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Rows != int64(n) || rep.Created != 4 || rep.Updated != int64(n-4) || rep.Rejected != 0 {
				t.Fatalf("NDJSON report %+v", rep)
			}
			if m, _ := s.GetMerchant(t.Context(), fmt.Sprintf("i%06d", n/2+1)); m.City != "Chengdu" || len(m.Tags) != 0 {
				t.Fatalf("replaced merchant: %+v", m)
			}
			entries, err := s.Audit(t.Context(), AuditQuery{Action: "merchant.import"})
			if err != nil || len(entries) != 2 {
				t.Fatalf("audit: %d entries, %v", len(entries), err)
			}
		})
	}
}

// Every kind of bad row is rejected with its line and the field at fault; the good rows
// around it are stored.
func TestImportRejects(t *testing.T) {
	s, lg := openSQLiteT(t), newLogic(t)
	long := strings.Repeat("x", MaxImportLine+10)
	csv := "\ufeffID,Name,City,Tags\r\n" + // a byte-order mark, CRLF, columns in any case and order
		"a1,Alpha,Paris,vip\r\n" +
		"\n" + // blank: skipped, not a row
		"a2,\"unclosed,Paris,vip\n" +
		"a3,Gamma,Paris\n" +
		"a4,,Paris,vip\n" +
		"a5,Epsilon,Paris,Not A Tag\n" +
		"a6," + long + ",Paris,\n" +
		"a7,Eta,Lyon,\n" +
		"a1,Alpha again,Nice,\n" // a repeated id: the later row wins
	rep, err := Import(t.Context(), s, lg, staff, strings.NewReader(csv), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	want := []RowError{
		{Line: 4, Field: "row"},
		{Line: 5, Field: "row"},
		{Line: 6, ID: "a4", Field: "name"},
		{Line: 7, ID: "a5", Field: "tags[0]"},
		{Line: 8, Field: "row"},
	}
	if rep.Rows != 8 || rep.Created != 2 || rep.Rejected != int64(len(want)) || len(rep.Errors) != len(want) {
		t.Fatalf("report %+v", rep)
	}
	for i, w := range want {
		got := rep.Errors[i]
		if got.Line != w.Line || got.ID != w.ID || got.Field != w.Field || got.Message == "" {
			t.Errorf("rejected row %d: %+v, want %+v", i, got, w)
		}
	}
	if m, err := s.GetMerchant(t.Context(), "a1"); err != nil || m.Name != "Alpha again" || m.City != "Nice" {
		t.Fatalf("a1: %+v %v", m, err)
	}

	nd := `{"id":"n1","name":"One"}` + "\n" +
		`{"id":"n2","name":"Two","colour":"red"}` + "\n" +
		`{"id":"n3","name":"Three"} {"id":"n4"}` + "\n" +
		`not json` + "\n" +
		`{"id":"n5","name":"Five","tags":"vip"}` + "\n" +
		`{"id":"n6","name":"Six","tags":["vip"]}` // no final newline
	rep, err = Import(t.Context(), s, lg, staff, strings.NewReader(nd), FormatNDJSON)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 6 || rep.Created != 2 || rep.Rejected != 4 {
		t.Fatalf("NDJSON report %+v", rep)
	}
	for i, line := range []int64{2, 3, 4, 5} {
		if rep.Errors[i].Line != line {
			t.Errorf("NDJSON rejected row %d on line %d, want %d", i, rep.Errors[i].Line, line)
		}
	}
}

// The report lists the first MaxImportErrors rejected rows and counts the rest.
func TestImportErrorsTruncated(t *testing.T) {
	s, lg := openSQLiteT(t), newLogic(t)
	src := &rowsReader{header: "id,name\n", n: MaxImportErrors + 5, row: func(i int) string { return "-bad,x\n" }}
	rep, err := Import(t.Context(), s, lg, staff, src, FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != MaxImportErrors+5 || len(rep.Errors) != MaxImportErrors || !rep.ErrorsTruncated {
		t.Fatalf("rejected %d, listed %d, truncated %v", rep.Rejected, len(rep.Errors), rep.ErrorsTruncated)
	}
	if list, _ := s.ListMerchants(t.Context(), MerchantQuery{}); len(list) != 0 {
		t.Fatalf("stored %d merchants from rejected rows", len(list))
	}
	entries, _ := s.Audit(t.Context(), AuditQuery{Action: "merchant.import"})
	if len(entries) != 0 {
		t.Fatalf("an import that stored nothing was audited: %+v", entries)
	}
}

// A header that does not name the columns refuses the whole file, before anything is
// written, naming the header as the field at fault.
func TestImportBadHeader(t *testing.T) {
	s, lg := openSQLiteT(t), newLogic(t)
	for name, csv := range map[string]string{
		"empty":          "",
		"blank":          "\n\n",
		"no id":          "name,city\nx,y\n",
		"no name":        "id,city\nx,y\n",
		"unknown column": "id,name,colour\nx,y,z\n",
		"twice":          "id,name,ID\nx,y,z\n",
		"not CSV":        "id,\"name\n",
	} {
		_, err := Import(t.Context(), s, lg, staff, strings.NewReader(csv), FormatCSV)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "header" {
			t.Errorf("%s: %v, want a header FieldError", name, err)
		}
	}
	_, err := Import(t.Context(), s, lg, staff, strings.NewReader("x"), "xml")
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "format" {
		t.Errorf("unknown format: %v", err)
	}
	if list, _ := s.ListMerchants(t.Context(), MerchantQuery{}); len(list) != 0 {
		t.Fatalf("stored %d merchants", len(list))
	}
}

// flakyEnsurer is IM failing on its n-th EnsureUsers call: an outside party to this
// package, failing as a restarting logic does.
type flakyEnsurer struct {
	UserEnsurer
	mu     sync.Mutex
	calls  int
	failAt int
}

func (f *flakyEnsurer) EnsureUsers(ctx context.Context, req *logicgen.EnsureUsersRequest) (*logicgen.EnsureUsersResponse, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	if n == f.failAt {
		return nil, ErrUnavailable
	}
	return f.UserEnsurer.EnsureUsers(ctx, req)
}

// When IM fails mid-file, or the file stops arriving, the batches before stay stored and
// the rest is not; the error says why; importing the file again completes it.
func TestImportStopsOnFailure(t *testing.T) {
	s, lg := openSQLiteT(t), newLogic(t)
	file := func() io.Reader {
		return &rowsReader{header: "id,name\n", n: 3*ImportBatch + 10, row: func(i int) string { return fmt.Sprintf("f%05d,F\n", i) }}
	}
	rep, err := Import(t.Context(), s, &flakyEnsurer{UserEnsurer: lg, failAt: 2}, staff, file(), FormatCSV)
	if !errors.Is(err, ErrUnavailable) || rep.Created != ImportBatch {
		t.Fatalf("IM failing on the second batch: %+v %v", rep, err)
	}
	if _, err := s.GetMerchant(t.Context(), fmt.Sprintf("f%05d", ImportBatch+1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a row of the failed batch was stored: %v", err)
	}
	entries, _ := s.Audit(t.Context(), AuditQuery{Action: "merchant.import"})
	if len(entries) != 1 || !strings.Contains(string(entries[0].After), "stopped") {
		t.Fatalf("the partial import's audit entry: %+v", entries)
	}

	broken := io.MultiReader(io.LimitReader(file(), 500), errReader{errors.New("client went away")})
	rep, err = Import(t.Context(), s, lg, staff, broken, FormatCSV)
	if err == nil || !strings.Contains(err.Error(), "client went away") || rep.Created+rep.Updated != 0 {
		t.Fatalf("a file cut short: %+v %v", rep, err)
	}

	rep, err = Import(t.Context(), s, lg, staff, file(), FormatCSV)
	if err != nil || rep.Created != 2*ImportBatch+10 || rep.Updated != ImportBatch {
		t.Fatalf("the import again: %+v %v", rep, err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Import's parsers take any bytes: never a panic, every row either stored valid or
// reported with its line.
func FuzzImportCSV(f *testing.F) {
	f.Add([]byte("id,name,city,category,tags\na,b,c,d,e;f\n"))
	f.Add([]byte("\ufeffname,id\r\n\"x,\"\"y\",a\r\n"))
	f.Add([]byte("id,name\n\"a\nb\",c\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, data, FormatCSV) })
}

func FuzzImportNDJSON(f *testing.F) {
	f.Add([]byte(`{"id":"a","name":"b","tags":["x"]}` + "\n" + `{"id":1}`))
	f.Add([]byte("\n\n{}\n[]\nnull\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, data, FormatNDJSON) })
}

// parseAll runs a parser over data as Import does, without a store.
func fuzzImport(t *testing.T, data []byte, format string) {
	lines := newLineReader(bytes.NewReader(data))
	var next func() (Merchant, *RowError, error)
	if format == FormatCSV {
		p, err := newCSVParser(lines)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "header" {
				t.Fatalf("header error %v is not a header FieldError", err)
			}
			return
		}
		next = p.next
	} else {
		next = (&ndjsonParser{lines: lines}).next
	}
	var last int64
	for {
		m, rowErr, err := next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("reading bytes in memory: %v", err)
		}
		if rowErr != nil {
			if rowErr.Line <= last || rowErr.Field == "" || rowErr.Message == "" {
				t.Fatalf("row error %+v after line %d", rowErr, last)
			}
			last = rowErr.Line
			continue
		}
		if err := ValidateMerchant(&m); err != nil {
			t.Fatalf("a stored row does not validate: %+v: %v", m, err)
		}
		last = lines.line
	}
}
