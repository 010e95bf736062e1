package sim

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hooklift/gowsdl/soap"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixedNow is the simulated world's time in tests: a Saturday morning, UTC.
var fixedNow = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// clock is a settable time source for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startSim starts a Sim on loopback ports with a fixed clock and shuts it
// down when the test ends.
func startSim(t *testing.T, adjust ...func(*Config)) *Sim {
	t.Helper()
	clk := &clock{t: fixedNow}
	cfg := Config{
		HousingAddr:     "127.0.0.1:0",
		RecruitmentAddr: "127.0.0.1:0",
		AccountAddr:     "127.0.0.1:0",
		Now:             clk.Now,
	}
	for _, a := range adjust {
		a(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// httpClient returns a client whose idle connections are closed when the test
// ends, so goleak sees no transport goroutines.
func httpClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// soapClient is the generated code's client for a line, with the sim's
// default credentials.
func soapClient(t *testing.T, s *Sim, line string, opts ...soap.Option) *soap.Client {
	t.Helper()
	opts = append([]soap.Option{
		soap.WithBasicAuth(DefaultPartnerID, DefaultPartnerKey),
		soap.WithHTTPClient(httpClient(t)),
	}, opts...)
	return soap.NewClient(s.URL(line), opts...)
}

// rawResponse is an HTTP answer read whole.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// post sends body to a line's endpoint as a SOAP 1.1 request with the default
// credentials; action is the SOAPAction header value as sent ("" leaves it out).
func post(t *testing.T, s *Sim, line, action string, body []byte) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL(line), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", `text/xml; charset=utf-8`)
	if action != "" {
		req.Header.Set("SOAPAction", action)
	}
	req.SetBasicAuth(DefaultPartnerID, DefaultPartnerKey)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := httpClient(t).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: body}
}

// wireFault is a soap:Fault as it travels, with its detail element kept raw so
// each test can decode it into the generated fault type it expects.
type wireFault struct {
	Code   string `xml:"faultcode"`
	String string `xml:"faultstring"`
	Detail struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"detail"`
}

type wireEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Fault *wireFault `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
		Inner []byte     `xml:",innerxml"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// parseFault decodes a fault envelope and fails the test if body is not one.
func parseFault(t *testing.T, body []byte) *wireFault {
	t.Helper()
	var env wireEnvelope
	if err := xml.Unmarshal(body, &env); err != nil {
		t.Fatalf("answer is not a SOAP envelope: %v\n%s", err, body)
	}
	if env.Body.Fault == nil {
		t.Fatalf("answer is not a fault:\n%s", body)
	}
	return env.Body.Fault
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
