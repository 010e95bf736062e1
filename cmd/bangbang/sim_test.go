package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSimCommand runs `bangbang sim` alone and reads each service's WSDL.
func TestSimCommand(t *testing.T) {
	t.Parallel()
	h, r, a := freeAddr(t), freeAddr(t), freeAddr(t)
	start(t, "sim", nil, []string{h, r, a}, "sim", "--sim-housing-addr", h, "--sim-recruitment-addr", r, "--sim-account-addr", a)
	for line, addr := range map[string]string{"housing": h, "recruitment": r, "account": a} {
		resp, err := http.Get("http://" + addr + "/soap/" + line + "/v1?wsdl")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "urn:bangbang:partner:"+line+":v1") {
			t.Fatalf("%s ?wsdl: %d %.200s", line, resp.StatusCode, body)
		}
	}
}
