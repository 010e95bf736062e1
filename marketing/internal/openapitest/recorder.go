package openapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Recorder keeps what the tests saw: every status and content type per request, and one
// body per status. A package's TestMain checks it against the document once every test
// has run. The zero Recorder is not usable; call NewRecorder.
type Recorder struct {
	doc      string // the document's file
	mu       sync.Mutex
	statuses map[string]map[int]bool   // "METHOD /admin/traces/0af7…" -> statuses
	types    map[string]map[string]int // same key -> media type -> a status it came with
	bodies   map[string]map[int]body   // same key -> status -> a body
}

// body is one answer's body and its media type ("" when the caller did not record it).
type body struct {
	mediaType string
	data      []byte
}

// NewRecorder returns an empty Recorder whose Check reads the document at docPath.
func NewRecorder(docPath string) *Recorder {
	return &Recorder{doc: docPath, statuses: map[string]map[int]bool{}, types: map[string]map[string]int{},
		bodies: map[string]map[int]body{}}
}

// Record notes one answer to method on path (the request's path, not a route): its status,
// its Content-Type header and its body. An empty contentType records no media type, for
// callers that do not keep the header.
func (r *Recorder) Record(method, path string, status int, contentType string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := method + " " + path
	if r.statuses[key] == nil {
		r.statuses[key] = map[int]bool{}
		r.types[key] = map[string]int{}
		r.bodies[key] = map[int]body{}
	}
	r.statuses[key][status] = true
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && len(data) > 0 {
		r.types[key][mt] = status
	}
	if _, seen := r.bodies[key][status]; !seen {
		r.bodies[key][status] = body{mediaType: mt, data: data}
	}
}

// Transport returns an http.RoundTripper that sends through base and records every
// answer, leaving the response's body readable by the caller.
func (r *Recorder) Transport(base http.RoundTripper) http.RoundTripper {
	return recording{base: base, r: r}
}

type recording struct {
	base http.RoundTripper
	r    *Recorder
}

func (rt recording) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	rt.r.Record(req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	return resp, nil
}

// Check reads the document and compares what was recorded with it, joining every
// mismatch: a status an operation does not document, a media type its response for that
// status does not document, a body that does not conform to the JSON schema documented
// for its status. Requests to no documented operation (an unknown path or method: 404 and
// 405) are not checked. When the whole suite ran (no -test.run filter), every documented
// operation must also have been seen succeeding (a status below 400).
func (r *Recorder) Check() error {
	d, err := Read(r.doc)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	succeeded := map[string]bool{}
	for key, statuses := range r.statuses {
		method, raw, _ := strings.Cut(key, " ")
		path, ok := d.RouteOf(raw)
		op, found := d.Paths[path][strings.ToLower(method)]
		if !ok || !found {
			continue
		}
		for status := range statuses {
			if _, ok := op.Responses[strconv.Itoa(status)]; !ok {
				errs = append(errs, fmt.Errorf("%s %s (%s): status %d observed, not documented", method, path, raw, status))
			}
			if status < 400 {
				succeeded[method+" "+path] = true
			}
		}
		for mt, status := range r.types[key] {
			res, err := d.Response(op.Responses[strconv.Itoa(status)])
			if _, ok := res.Content[mt]; err == nil && !ok {
				errs = append(errs, fmt.Errorf("%s %s %d: content type %s observed, not documented", method, path, status, mt))
			}
		}
		for status, b := range r.bodies[key] {
			if err := d.checkBody(op.Responses[strconv.Itoa(status)], b); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %d body %s: %w", method, path, status, b.data, err))
			}
		}
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		for _, route := range d.Routes() {
			if !succeeded[route] {
				errs = append(errs, fmt.Errorf("%s: no test saw it succeed", route))
			}
		}
	}
	return errors.Join(errs...)
}

// checkBody checks a JSON body against the schema r documents for JSON. A body of another
// media type is not checked beyond its type. When the media type was not recorded, the
// body is taken for JSON if r documents only JSON, or JSON among others and the body
// parses as JSON. An undocumented status (its zero Response) documents nothing; Check
// reports it already.
func (d *Document) checkBody(r Response, b body) error {
	res, err := d.Response(r)
	if err != nil {
		return err
	}
	js, isJSON := res.Content["application/json"]
	switch {
	case b.mediaType != "" && b.mediaType != "application/json", !isJSON:
		return nil
	case b.mediaType == "" && len(res.Content) > 1 && !json.Valid(b.data):
		return nil
	}
	var v any
	if err := json.Unmarshal(b.data, &v); err != nil {
		return err
	}
	return d.Conforms(js.Schema, v)
}
