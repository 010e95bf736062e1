package campaign

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// Import formats.
const (
	FormatCSV    = "csv"
	FormatNDJSON = "ndjson"
)

const (
	// ImportBatch is how many valid rows an import writes per transaction, after telling
	// the IM core of their accounts in one call.
	ImportBatch = 1000
	// MaxImportLine bounds one line of an import file; a longer one is rejected, and
	// the import goes on at the next line.
	MaxImportLine = 16 << 10
	// MaxImportErrors bounds the rejected rows an ImportReport lists; the rest are
	// counted in Rejected only.
	MaxImportErrors = 1000
)

// UserEnsurer tells the IM core of merchants' accounts: logic's EnsureUsers.
type UserEnsurer interface {
	EnsureUsers(ctx context.Context, req *logicgen.EnsureUsersRequest) (*logicgen.EnsureUsersResponse, error)
}

// RowError is one rejected row of an import.
type RowError struct {
	Line    int64  `json:"line"`         // 1-based line of the file
	ID      string `json:"id,omitempty"` // the row's id, when it could be read
	Field   string `json:"field"`        // the field at fault; "row" when the row itself is
	Message string `json:"message"`
}

// ImportReport is what an import did.
type ImportReport struct {
	Rows            int64      `json:"rows"`     // merchant rows read (header and blank lines excluded)
	Created         int64      `json:"created"`  // new merchants
	Updated         int64      `json:"updated"`  // merchants that existed (live or deleted) and were replaced
	Rejected        int64      `json:"rejected"` // rows that did not validate, not stored
	Errors          []RowError `json:"errors"`   // the first MaxImportErrors rejected rows
	ErrorsTruncated bool       `json:"errors_truncated"`
}

func (r *ImportReport) reject(e RowError) {
	r.Rejected++
	if len(r.Errors) < MaxImportErrors {
		r.Errors = append(r.Errors, e)
	} else {
		r.ErrorsTruncated = true
	}
}

// Import reads merchants from src, CSV or NDJSON, as a stream: memory holds one batch of
// rows, never the file. Each batch of valid rows is told to the IM core (EnsureUsers,
// so a campaign can reach the account) and then written in one transaction. Rows that do
// not validate are reported and skipped. A file whose CSV header is wrong is refused
// whole with a *FieldError before anything is written.
//
// When src fails (the client went away, the body is over its limit) or a dependency does,
// Import returns the report so far with the error, and the batches written stay written;
// importing the same file again is safe, as a row replaces what its id holds. The import
// is one audit entry, written when anything was stored.
func Import(ctx context.Context, st *Store, lg UserEnsurer, a Actor, src io.Reader, format string) (ImportReport, error) {
	rep := ImportReport{Errors: []RowError{}}
	var next func() (Merchant, *RowError, error)
	lines := newLineReader(src)
	switch format {
	case FormatCSV:
		p, err := newCSVParser(lines)
		if err != nil {
			return rep, err
		}
		next = p.next
	case FormatNDJSON:
		next = (&ndjsonParser{lines: lines}).next
	default:
		return rep, fieldErr("format", "an import is %s or %s", FormatCSV, FormatNDJSON)
	}
	im := importer{st: st, lg: lg, rep: &rep, index: map[string]int{}}
	err := im.run(ctx, next)
	if rep.Created+rep.Updated > 0 {
		after := map[string]any{"format": format, "rows": rep.Rows, "created": rep.Created,
			"updated": rep.Updated, "rejected": rep.Rejected}
		if err != nil {
			after["stopped"] = err.Error()
		}
		if aerr := st.RecordAudit(context.WithoutCancel(ctx), a, "merchant.import", "merchants", nil, after); err == nil {
			err = aerr
		}
	}
	return rep, err
}

type importer struct {
	st    *Store
	lg    UserEnsurer
	rep   *ImportReport
	batch []Merchant
	index map[string]int // id → place in batch: a repeated id replaces its earlier row
}

func (im *importer) run(ctx context.Context, next func() (Merchant, *RowError, error)) error {
	for {
		m, rowErr, err := next()
		if errors.Is(err, io.EOF) {
			return im.flush(ctx)
		}
		if err != nil {
			return err // the batch read so far is not written: the file did not arrive whole
		}
		im.rep.Rows++
		if rowErr != nil {
			im.rep.reject(*rowErr)
			continue
		}
		if i, ok := im.index[m.ID]; ok {
			im.batch[i] = m
			continue
		}
		im.index[m.ID] = len(im.batch)
		im.batch = append(im.batch, m)
		if len(im.batch) == ImportBatch {
			if err := im.flush(ctx); err != nil {
				return err
			}
		}
	}
}

func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	users := make([]*logicgen.UserInfo, len(im.batch))
	for i, m := range im.batch {
		users[i] = &logicgen.UserInfo{UserId: m.ID, Kind: "merchant", DisplayName: m.Name}
	}
	if _, err := im.lg.EnsureUsers(ctx, &logicgen.EnsureUsersRequest{Users: users}); err != nil {
		return fmt.Errorf("import: telling IM of %d accounts: %w", len(users), err)
	}
	created, updated, err := im.st.UpsertMerchants(ctx, im.batch)
	if err != nil {
		return err
	}
	im.rep.Created += int64(created)
	im.rep.Updated += int64(updated)
	im.batch = im.batch[:0]
	clear(im.index)
	return nil
}

// lineReader yields a file's lines without their end ("\n" or "\r\n"), with a bounded
// buffer: a line over MaxImportLine comes back as errLongLine and is skipped.
type lineReader struct {
	r    *bufio.Reader
	line int64 // of the last line returned
}

var errLongLine = fmt.Errorf("longer than %d bytes", MaxImportLine)

func newLineReader(src io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(src, MaxImportLine)}
}

// next returns the next line (valid until the following call), io.EOF after the last, or
// the source's error.
func (l *lineReader) next() ([]byte, error) {
	b, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.line++
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = l.r.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, errLongLine
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(b) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	l.line++
	if l.line == 1 {
		b = bytes.TrimPrefix(b, []byte("\ufeff")) // a byte-order mark, as spreadsheets write
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return b, nil
}

// row returns the next non-blank line and its number; a line over MaxImportLine comes
// back as a rejected row instead.
func (l *lineReader) row() (b []byte, line int64, rowErr *RowError, err error) {
	for {
		b, err := l.next()
		if errors.Is(err, errLongLine) {
			return nil, l.line, &RowError{Line: l.line, Field: "row", Message: err.Error()}, nil
		}
		if err != nil {
			return nil, 0, nil, err
		}
		if len(bytes.TrimSpace(b)) > 0 {
			return b, l.line, nil, nil
		}
	}
}

// csvParser reads CSV one line per record: a merchant's fields never hold a line break
// (ValidateMerchant refuses control characters), so a stray quote spoils one row, not
// the rest of the file.
type csvParser struct {
	lines *lineReader
	cols  map[string]int // column → index in the header
	n     int            // columns in the header
}

// importColumns are the CSV header's known columns; id and name are required.
var importColumns = []string{"id", "name", "city", "category", "tags"}

func newCSVParser(lines *lineReader) (*csvParser, error) {
	var header []byte
	for {
		b, err := lines.next()
		if errors.Is(err, io.EOF) {
			return nil, fieldErr("header", "the file is empty: the first line names the columns %s", strings.Join(importColumns, ","))
		}
		if errors.Is(err, errLongLine) {
			return nil, fieldErr("header", "the first line is %v", err)
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(b)) > 0 {
			header = b
			break
		}
	}
	rec, err := parseCSVLine(header)
	if err != nil {
		return nil, fieldErr("header", "line %d: %v", lines.line, err)
	}
	p := &csvParser{lines: lines, cols: map[string]int{}, n: len(rec)}
	for i, name := range rec {
		name = strings.ToLower(strings.TrimSpace(name))
		known := false
		for _, c := range importColumns {
			known = known || c == name
		}
		if !known {
			return nil, fieldErr("header", "unknown column %q: the columns are %s", name, strings.Join(importColumns, ","))
		}
		if _, dup := p.cols[name]; dup {
			return nil, fieldErr("header", "column %q named twice", name)
		}
		p.cols[name] = i
	}
	for _, c := range []string{"id", "name"} {
		if _, ok := p.cols[c]; !ok {
			return nil, fieldErr("header", "no %q column: the columns are %s", c, strings.Join(importColumns, ","))
		}
	}
	return p, nil
}

func parseCSVLine(b []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	return rec, nil
}

func (p *csvParser) next() (Merchant, *RowError, error) {
	b, line, rowErr, err := p.lines.row()
	if rowErr != nil || err != nil {
		return Merchant{}, rowErr, err
	}
	rec, err := parseCSVLine(b)
	if err != nil {
		return Merchant{}, &RowError{Line: line, Field: "row", Message: "not CSV: " + err.Error()}, nil
	}
	if len(rec) != p.n {
		return Merchant{}, &RowError{Line: line, Field: "row", Message: fmt.Sprintf("%d fields, the header names %d", len(rec), p.n)}, nil
	}
	get := func(c string) string {
		if i, ok := p.cols[c]; ok {
			return rec[i]
		}
		return ""
	}
	m := Merchant{ID: get("id"), Name: get("name"), City: get("city"), Category: get("category")}
	for _, t := range strings.Split(get("tags"), ";") {
		if strings.TrimSpace(t) != "" {
			m.Tags = append(m.Tags, t)
		}
	}
	return validRow(line, m)
}

func validRow(line int64, m Merchant) (Merchant, *RowError, error) {
	if err := ValidateMerchant(&m); err != nil {
		re := &RowError{Line: line, ID: m.ID, Field: "row", Message: err.Error()}
		var fe *FieldError
		if errors.As(err, &fe) {
			re.Field, re.Message = fe.Field, fe.Message
		}
		if !idPattern.MatchString(m.ID) {
			re.ID = "" // not an id: it may be anything, up to a line long
		}
		return Merchant{}, re, nil
	}
	return m, nil, nil
}

// ndjsonParser reads one JSON object per line, with the fields of a merchant's input.
type ndjsonParser struct{ lines *lineReader }

// importRow is an NDJSON row: unknown fields are refused, as the API's bodies are.
type importRow struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	City     string   `json:"city"`
	Category string   `json:"category"`
	Tags     []string `json:"tags"`
}

func (p *ndjsonParser) next() (Merchant, *RowError, error) {
	b, line, rowErr, err := p.lines.row()
	if rowErr != nil || err != nil {
		return Merchant{}, rowErr, err
	}
	var row importRow
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&row); err != nil {
		return Merchant{}, &RowError{Line: line, Field: "row", Message: "not a merchant object: " + err.Error()}, nil
	}
	if dec.More() {
		return Merchant{}, &RowError{Line: line, Field: "row", Message: "more than one JSON value on the line"}, nil
	}
	return validRow(line, Merchant{ID: row.ID, Name: row.Name, City: row.City, Category: row.Category, Tags: row.Tags})
}
