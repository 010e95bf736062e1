package browsertest

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"
)

// pages are the test's site: a form whose button updates a text later (as a page
// waiting on a fetch does), and a page whose scripts fail.
var pages = map[string]string{
	"/": `<!doctype html><title>form</title>
<input id="name" value="typed over">
<button id="go">Go</button>
<p id="status">idle</p>
<div id="spinner">loading</div>
<input type="file" id="file"><p id="file-text"></p>
<select id="pick"><option value="a">A</option><option value="b">B</option></select><p id="picked"></p>
<script>
document.getElementById("pick").addEventListener("change", (ev) => { document.getElementById("picked").textContent = "picked " + ev.target.value; });
document.getElementById("file").addEventListener("change", (ev) => {
	ev.target.files[0].text().then((t) => { document.getElementById("file-text").textContent = ev.target.files[0].name + ": " + t; });
});
document.getElementById("go").addEventListener("click", () => {
	const name = document.getElementById("name").value;
	setTimeout(() => {
		document.getElementById("status").textContent = "hello " + name;
		document.getElementById("spinner").remove();
	}, 150);
});
</script>`,
	"/broken": `<!doctype html><title>broken</title>
<p id="status">broken page</p>
<script>console.log("fine"); console.error("bad thing", 42);</script>
<script>throw new Error("boom from the page");</script>`,
}

func serve(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts
}

// One browser serves every check (starting it is the expensive part); the last checks
// prove it is gone, with its processes, once its test ends.
func TestBrowser(t *testing.T) {
	ts := serve(t)
	var pid int
	var dataDir string
	t.Run("drive", func(t *testing.T) {
		tab := New(t)
		pid, dataDir = browserProcess(t, tab)

		t.Run("form", func(t *testing.T) { checkForm(t, tab.rebind(t), ts.URL) })
		t.Run("errors", func(t *testing.T) { checkErrors(t, tab.rebind(t).NewTab(), ts.URL) })
		t.Run("wait fails", func(t *testing.T) { checkWaitFails(t, tab.rebind(t), ts.URL) })
	})
	if pid == 0 { // skipped: no Chromium
		return
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("browser process %d still there after its test: kill(0) = %v", pid, err)
	}
	if left := processesUsing(t, dataDir); len(left) > 0 {
		t.Errorf("processes still using %s after the test: %v", dataDir, left)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("user data directory %s not removed: stat = %v", dataDir, err)
	}
	ts.Close()
	goleak.VerifyNone(t)
}

// rebind returns the tab failing t instead: a subtest must not fail its parent.
func (tab *Tab) rebind(t *testing.T) *Tab {
	c := *tab
	c.t = t
	return &c
}

func checkForm(t *testing.T, tab *Tab, url string) {
	if code := tab.Navigate(url); code != http.StatusOK {
		t.Fatalf("status %d, want 200", code)
	}
	if n := tab.Count("#missing"); n != 0 {
		t.Errorf("Count(#missing) = %d, want 0", n)
	}
	if n := tab.Count("#spinner"); n != 1 {
		t.Errorf("Count(#spinner) = %d, want 1", n)
	}
	tab.Fill("#name", "Ada")
	tab.Click("#go")
	tab.WaitText("#status", "hello Ada") // set 150 ms after the click
	if got := tab.Text("#status"); got != "hello Ada" {
		t.Errorf("Text(#status) = %q, want %q (Fill should replace the value)", got, "hello Ada")
	}
	tab.WaitAbsent("#spinner")
	up := filepath.Join(t.TempDir(), "chosen.csv")
	if err := os.WriteFile(up, []byte("id,name\nm1,Ada\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tab.Upload("#file", up)
	tab.WaitText("#file-text", "chosen.csv: id,name")
	if v := tab.Value("#name"); v != "Ada" {
		t.Errorf("Value(#name) = %q, want Ada", v)
	}
	tab.Select("#pick", "b")
	tab.WaitText("#picked", "picked b")
	if !strings.HasPrefix(tab.URL(), url) {
		t.Errorf("URL() = %q, want under %s", tab.URL(), url)
	}

	path := tab.Screenshot("after click")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is no PNG: %v", path, err)
	}
	if w := img.Bounds().Dx(); w != Width {
		t.Errorf("screenshot is %d px wide, want the window's %d", w, Width)
	}
	if filepath.Base(path) != "after_click.png" {
		t.Errorf("screenshot file %s, want after_click.png", filepath.Base(path))
	}
	tab.NoJSErrors()
}

func checkErrors(t *testing.T, tab *Tab, url string) {
	tab.Navigate(url + "/broken")
	tab.WaitText("#status", "broken page")
	errs := tab.JSErrors()
	t.Logf("JSErrors: %q", errs)
	if len(errs) != 2 {
		t.Fatalf("JSErrors() = %q, want the console.error and the exception", errs)
	}
	if !strings.Contains(errs[0], "bad thing 42") || !strings.HasPrefix(errs[0], "error:") {
		t.Errorf("first error %q, want the console.error call", errs[0])
	}
	if !strings.Contains(errs[1], "boom from the page") || !strings.Contains(errs[1], "/broken:") {
		t.Errorf("second error %q, want the exception and where it was thrown", errs[1])
	}
}

func checkWaitFails(t *testing.T, tab *Tab, url string) {
	tab.Navigate(url)
	ctx, cancel := context.WithTimeout(tab.Context(), 300*time.Millisecond)
	defer cancel()
	err := WaitText(ctx, "#status", "never shown")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `"idle"`) {
		t.Errorf("WaitText for absent text = %v, want a deadline error telling the text seen", err)
	}
	ctx, cancel = context.WithTimeout(tab.Context(), 300*time.Millisecond)
	defer cancel()
	if err := WaitText(ctx, "#nothing", "x"); err == nil || !strings.Contains(err.Error(), "no such element") {
		t.Errorf("WaitText on a missing element = %v, want it to say so", err)
	}
}

// browserProcess returns the browser's pid and user data directory (from its command line).
func browserProcess(t *testing.T, tab *Tab) (int, string) {
	p := chromedp.FromContext(tab.Context()).Browser.Process()
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/cmdline")
	if err != nil {
		t.Fatalf("read the browser's command line: %v", err)
	}
	for arg := range strings.SplitSeq(string(cmdline), "\x00") {
		if dir, ok := strings.CutPrefix(arg, "--user-data-dir="); ok {
			return p.Pid, dir
		}
	}
	t.Fatalf("browser started without --user-data-dir: %q", cmdline)
	return 0, ""
}

// processesUsing lists the processes whose command line names dataDir.
func processesUsing(t *testing.T, dataDir string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte("--user-data-dir="+dataDir)) {
			found = append(found, e.Name()+": "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return found
}
