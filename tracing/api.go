package tracing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Handler serves the store's read API as JSON:
//
//	GET /admin/v1/traces?service=&operation=&min_duration=&error=&user=&attr=&start=&end=&limit=
//	GET /admin/v1/traces/map?start=&end=
//	GET /admin/v1/traces/{id}
//
// min_duration is a Go duration ("250ms") or a number of milliseconds; error is a
// boolean; attr is key:value and may be repeated (see AttrFilter); start and end are
// RFC 3339 times or Unix milliseconds; limit is 1..MaxLimit (default DefaultLimit). The
// list answers {"traces": [TraceSummary…]}; the map a ServiceMap; a trace a Trace.
// Errors answer {"code", "message", "request_id"} with 400 bad_request or 404
// not_found. The admin server mounting it authenticates.
func (s *Store) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/v1/traces", s.serveList)
	mux.HandleFunc("GET /admin/v1/traces/map", s.serveMap)
	mux.HandleFunc("GET /admin/v1/traces/{id}", s.serveTrace)
	return mux
}

func (s *Store) serveList(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Traces []TraceSummary `json:"traces"`
	}{s.List(q)})
}

func (s *Store) serveMap(w http.ResponseWriter, r *http.Request) {
	start, end, err := parseRange(r.URL.Query())
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.ServiceMap(start, end))
}

func (s *Store) serveTrace(w http.ResponseWriter, r *http.Request) {
	id, err := trace.TraceIDFromHex(r.PathValue("id"))
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad_request", "trace id must be 32 lower-case hex digits, not all zero")
		return
	}
	t, ok := s.Get(id)
	if !ok {
		writeError(w, r, http.StatusNotFound, "not_found", "no such trace in the store (never stored, or evicted)")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func parseQuery(r *http.Request) (Query, error) {
	v := r.URL.Query()
	q := Query{Service: v.Get("service"), Operation: v.Get("operation"), User: v.Get("user")}
	if s := v.Get("min_duration"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			ms, msErr := strconv.ParseUint(s, 10, 32)
			if msErr != nil {
				return q, fmt.Errorf("min_duration %q is neither a duration (250ms) nor milliseconds", s)
			}
			d = time.Duration(ms) * time.Millisecond
		}
		if d < 0 {
			return q, fmt.Errorf("min_duration %q is negative", s)
		}
		q.MinDuration = d
	}
	if s := v.Get("error"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, fmt.Errorf("error %q is not a boolean", s)
		}
		q.ErrorOnly = b
	}
	for _, s := range v["attr"] {
		if s == "" {
			continue // an empty field of the list page's form
		}
		f, err := ParseAttrFilter(s)
		if err != nil {
			return q, err
		}
		if len(q.Attrs) == MaxAttrFilters {
			return q, fmt.Errorf("more than %d attr filters", MaxAttrFilters)
		}
		q.Attrs = append(q.Attrs, f)
	}
	var err error
	if q.Start, q.End, err = parseRange(v); err != nil {
		return q, err
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, fmt.Errorf("limit %q is not in 1..%d", s, MaxLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// parseRange reads the start and end parameters; either may be absent, but not after
// the other.
func parseRange(v url.Values) (start, end time.Time, err error) {
	if start, err = parseTime("start", v.Get("start")); err != nil {
		return start, end, err
	}
	if end, err = parseTime("end", v.Get("end")); err != nil {
		return start, end, err
	}
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		return start, end, fmt.Errorf("end %q is before start %q", v.Get("end"), v.Get("start"))
	}
	return start, end, nil
}

// parseTime reads an RFC 3339 time (2025-03-01T12:00:00Z, fractions of a second
// allowed) or a number of milliseconds since the Unix epoch; "" is the zero time.
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < 0 || ms > maxUnixMilli {
			return time.Time{}, fmt.Errorf("%s %q is out of range", name, s)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is neither an RFC 3339 time (2025-03-01T12:00:00Z) nor Unix milliseconds", name, s)
	}
	return t, nil
}

// maxUnixMilli is the year 9999's end: later times have no RFC 3339 form to answer with.
const maxUnixMilli = 253402300799999

type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeJSON(w, status, errorBody{Code: code, Message: msg, RequestID: r.Header.Get("X-Request-Id")})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only NaN or infinite float attributes get here; report them rather than
		// sending half a document.
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Code: "internal", Message: "trace not representable as JSON: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
