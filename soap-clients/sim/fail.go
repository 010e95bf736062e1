package sim

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"time"
)

const htmlErrorPage = `<!DOCTYPE html>
<html>
<head><title>500 Internal Server Error</title></head>
<body>
<h1>Internal Server Error</h1>
<p>The server encountered an internal error and was unable to complete your request.</p>
</body>
</html>
`

// endlessTick paces an endless answer (about 1.6 MB/s): fast enough that a
// response size limit trips within a second, slow enough not to load the host.
const endlessTick = 10 * time.Millisecond

func serverFault() *soapFault {
	return &soapFault{code: codeServer, message: "service temporarily unavailable"}
}

func (s *server) writeHTMLError(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(htmlErrorPage)))
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(htmlErrorPage))
}

// writeMalformed starts a well-formed answer to op and breaks it off with a
// mismatched end tag.
func (s *server) writeMalformed(w http.ResponseWriter, op string) {
	body := []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<soap:Envelope xmlns:soap="` + nsSOAP11 + `"><soap:Body><` + op + `Response xmlns="` + s.svc.ns + `"><result>` +
		`</soap:Body></soap:Envelope>` + "\n")
	writeXML(w, http.StatusOK, body)
}

// writeEndless streams an answer to op that never ends, until the client goes
// away or the Sim shuts down (both cancel ctx), or a write fails.
func (s *server) writeEndless(ctx context.Context, w http.ResponseWriter, op string) {
	s.streaming.Add(1)
	defer s.streaming.Add(-1)
	w.Header().Set("Content-Type", contentTypeXML)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	head := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<soap:Envelope xmlns:soap="` + nsSOAP11 + `"><soap:Body><` + op + `Response xmlns="` + s.svc.ns + `">` + "\n"
	if _, err := w.Write([]byte(head)); err != nil {
		return
	}
	// XML comments keep a streaming parser reading without ever reaching the
	// end of the element: about 16 KiB of them per tick.
	chunk := bytes.Repeat([]byte("<!-- still working -->\n"), 700)
	tick := time.NewTicker(endlessTick)
	defer tick.Stop()
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
