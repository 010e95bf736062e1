package sim

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/bangbang-im/bangbang/gen/soap/wsdl"
)

// readWSDL reads a line's contract from idl/wsdl, the source of truth.
func readWSDL(t *testing.T, line string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "idl", "wsdl", line+".wsdl"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEmbeddedWSDLIsCurrent fails when idl/wsdl changed without make gen.
func TestEmbeddedWSDLIsCurrent(t *testing.T) {
	for _, line := range Lines() {
		embedded, err := wsdl.Files.ReadFile(line + ".wsdl")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(embedded, readWSDL(t, line)) {
			t.Errorf("gen/soap/wsdl/%s.wsdl differs from idl/wsdl: run make gen", line)
		}
	}
}

func TestServesWSDL(t *testing.T) {
	s := startSim(t)
	for _, line := range Lines() {
		for _, query := range []string{"?wsdl", "?WSDL", "?wsdl="} {
			req, _ := http.NewRequest(http.MethodGet, s.URL(line)+query, nil)
			r := do(t, req)
			if r.status != http.StatusOK || !bytes.Equal(r.body, readWSDL(t, line)) {
				t.Errorf("GET %s%s: HTTP %d, %d bytes, not the WSDL file", line, query, r.status, len(r.body))
			}
			if ct := r.header.Get("Content-Type"); ct != contentTypeXML {
				t.Errorf("GET %s%s: Content-Type %q", line, query, ct)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL(line), nil)
		if r := do(t, req); r.status != http.StatusNotFound {
			t.Errorf("GET %s without ?wsdl: HTTP %d, want 404", line, r.status)
		}
	}
}
