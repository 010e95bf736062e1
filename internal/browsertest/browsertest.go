// Package browsertest lets Go tests drive a headless Chromium through chromedp: the
// staff console's end-to-end tests use it against a running `bangbang all --demo`.
//
// New starts one browser for the test and opens a tab in it; NewTab opens more tabs in
// the same browser, which is much cheaper than a second browser. A Tab's methods wait on
// a condition under the test's deadline, never on a sleep, and fail the test (saving a
// screenshot of the page first) when the condition does not come. They call t.Fatal, so
// call them from the test's goroutine only.
//
// Every tab collects what the page reports as a JavaScript error: console.error calls
// and exceptions nothing caught. JSErrors returns them and NoJSErrors fails the test on
// any, so a test can prove a page loaded cleanly.
//
// The browser is Chromium from the system: CHROMIUM_PATH if set, else the first of
// chromium, chromium-browser, google-chrome, google-chrome-stable found on PATH. Without
// one the test skips and says why (it fails if CHROMIUM_PATH names no binary). CI
// installs Debian's chromium package (.ci/run).
//
// It runs as root in a container (no sandbox, /dev/shm not used). The user data
// directory is a fresh temporary one that chromedp owns: when the test ends, the browser
// is closed, every process still using that directory is killed, and it is removed.
//
// This package is for tests only: nothing outside *_test.go files may import it.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bangbang-im/bangbang/internal/syncbuf"
)

// Timeout bounds everything one test does in its browser (every tab), from New on. A test
// whose go test deadline comes earlier gets that deadline less a few seconds, so it fails
// here, with a screenshot, and not in the test binary's panic.
const Timeout = 2 * time.Minute

// Width and Height are the browser window's size in CSS pixels.
const (
	Width  = 1280
	Height = 900
)

// ScreenshotsEnv names a directory to keep the screenshots in (one sub-directory per
// test). Unset, they go to a temporary directory removed after the test.
const ScreenshotsEnv = "BROWSERTEST_SCREENSHOTS"

// ChromiumEnv names the Chromium (or Chrome) binary to use, instead of a search of PATH.
// It is not BANGBANG_…: the bangbang binary rejects BANGBANG_ variables it does not know.
const ChromiumEnv = "CHROMIUM_PATH"

// chromiumNames are the binaries looked for on PATH, in order.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Tab is one browser tab that a test drives.
type Tab struct {
	t       testing.TB
	ctx     context.Context // the tab's chromedp context, under the browser's deadline
	browser *browser
	console *consoleLog
	shots   string // the screenshot directory, once made
}

// browser is what the tabs of one test share.
type browser struct {
	ctx    context.Context // the first tab's chromedp context, which owns the browser
	output *syncbuf.Buffer // the browser's stdout and stderr
}

// New starts a headless Chromium for t and returns a tab in it. It skips t when no
// Chromium is installed. The browser and every tab are closed when t ends.
func New(t testing.TB) *Tab {
	t.Helper()
	exe, err := findChromium()
	if err != nil {
		if os.Getenv(ChromiumEnv) != "" {
			t.Fatalf("browsertest: %v", err) // asked for a browser that is not there
		}
		t.Skipf("browsertest: %v", err)
	}

	b := &browser{output: new(syncbuf.Buffer)}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in a container: Chromium refuses to start sandboxed
		chromedp.Flag("headless", "new"),
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is small in containers
		chromedp.WindowSize(Width, Height),
		chromedp.CombinedOutput(b.output),
	)
	// The browser lives as long as the test, and no longer than its deadline: its
	// contexts are not the test's; the cleanup below ends them, then waits for the
	// process and its user data directory to go.
	parent, cancelParent := context.WithDeadline(context.Background(), deadline(t))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	b.ctx = browserCtx
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for the process to exit and removes its user data directory
		cancelParent()
		if t.Failed() {
			if out := strings.TrimSpace(b.output.String()); out != "" {
				t.Logf("browsertest: Chromium's output:\n%s", out)
			}
		}
	})

	// The first action on a context starts the browser and ties it to that context
	// (not a shorter-lived one).
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("browsertest: start %s: %v\n%s", exe, err, b.output.String())
	}
	return b.newTab(t, browserCtx)
}

// NewTab opens another tab in the same browser (sharing its cookies), closed when the
// test ends.
func (tab *Tab) NewTab() *Tab {
	tab.t.Helper()
	ctx, cancel := chromedp.NewContext(tab.browser.ctx)
	tab.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, tied to ctx
		tab.fail("open a tab: %v", err)
	}
	return tab.browser.newTab(tab.t, ctx)
}

// newTab wraps the chromedp context of an open tab.
func (b *browser) newTab(t testing.TB, tabCtx context.Context) *Tab {
	ctx, cancel := context.WithCancel(tabCtx)
	tab := &Tab{t: t, ctx: ctx, browser: b, console: collectConsole(ctx)}
	t.Cleanup(func() {
		cancel()
		<-tab.console.done
	})
	return tab
}

// Context is the tab's chromedp context, for what the helpers do not cover:
//
//	title, err := chromedp.Run(tab.Context(), chromedp.Title())
func (tab *Tab) Context() context.Context { return tab.ctx }

// Navigate loads url in the tab, waits for its load event, and returns the HTTP status
// of the document (after redirects).
func (tab *Tab) Navigate(url string) int {
	tab.t.Helper()
	resp, err := chromedp.Run(tab.ctx, chromedp.NavigateResponse(url))
	if err != nil {
		tab.fail("navigate to %s: %v", url, err)
	}
	return int(resp.Status)
}

// URL returns the address of the document the tab shows.
func (tab *Tab) URL() string {
	tab.t.Helper()
	url, err := chromedp.Run(tab.ctx, chromedp.Location())
	if err != nil {
		tab.fail("read the location: %v", err)
	}
	return url
}

// Fill replaces the value of the input or textarea matching the CSS selector with text,
// typed key by key (so the page sees input events), once it is visible.
func (tab *Tab) Fill(selector, text string) {
	tab.t.Helper()
	sel := chromedp.CSS(selector)
	clear := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`document.querySelector(%s).value = ""`, jsString(selector)))
	if err := chromedp.Do(tab.ctx, chromedp.WaitVisible(sel), clear, chromedp.SendKeys(sel, text)); err != nil {
		tab.fail("fill %s: %v", selector, err)
	}
}

// Value returns the current value of the input, textarea or select matching the CSS
// selector, once there is one.
func (tab *Tab) Value(selector string) string {
	tab.t.Helper()
	v, err := chromedp.Run(tab.ctx, chromedp.Value(chromedp.CSS(selector)))
	if err != nil {
		tab.fail("value of %s: %v", selector, err)
	}
	return v
}

// Upload sets the files of the file input matching the CSS selector to the files at paths
// (on this machine), as a person choosing them would, once it is in the page.
func (tab *Tab) Upload(selector string, paths ...string) {
	tab.t.Helper()
	if err := chromedp.Do(tab.ctx, chromedp.SetUploadFiles(chromedp.CSS(selector), paths)); err != nil {
		tab.fail("upload to %s: %v", selector, err)
	}
}

// Select chooses the option with value in the select matching the CSS selector, once it
// is visible, and tells the page as a choice by hand would (input and change events). An
// option the select does not have fails the test.
func (tab *Tab) Select(selector, value string) {
	tab.t.Helper()
	js := fmt.Sprintf(`(() => {
	const el = document.querySelector(%s);
	if (!el || !Array.from(el.options).some((o) => o.value === %s)) return false;
	el.value = %s;
	el.dispatchEvent(new Event("input", {bubbles: true}));
	el.dispatchEvent(new Event("change", {bubbles: true}));
	return true;
})()`, jsString(selector), jsString(value), jsString(value))
	if err := chromedp.Do(tab.ctx, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		tab.fail("select %s in %s: %v", value, selector, err)
	}
	ok, err := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		tab.fail("select %s in %s: %v", value, selector, err)
	}
	if !ok {
		tab.fail("select %s in %s: no such option", value, selector)
	}
}

// Click clicks the first element matching the CSS selector once it is visible. It does
// not wait for what the click starts: follow it with WaitText or WaitVisible.
func (tab *Tab) Click(selector string) {
	tab.t.Helper()
	if err := chromedp.Do(tab.ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
		tab.fail("click %s: %v", selector, err)
	}
}

// Text returns the visible text of the first element matching the CSS selector, once
// there is one.
func (tab *Tab) Text(selector string) string {
	tab.t.Helper()
	text, err := chromedp.Run(tab.ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		tab.fail("read the text of %s: %v", selector, err)
	}
	return text
}

// WaitText waits until the first element matching the CSS selector has a visible text
// containing substring. It goes on waiting across navigations (after a form's submit).
func (tab *Tab) WaitText(selector, substring string) {
	tab.t.Helper()
	if err := WaitText(tab.ctx, selector, substring); err != nil {
		tab.fail("%v", err)
	}
}

// WaitText is Tab.WaitText for any chromedp context, returning the error instead of
// failing a test: it ends with ctx, telling the text last seen.
func WaitText(ctx context.Context, selector, substring string) error {
	const interval = 50 * time.Millisecond
	expr := fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		return el === null ? {found: false, text: ""} : {found: true, text: el.innerText ?? el.textContent};
	})()`, jsString(selector))
	type seen struct {
		Found bool   `json:"found"`
		Text  string `json:"text"`
	}
	var last seen
	var lastErr error
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		// One attempt may hang while a navigation replaces the document: bound it, retry.
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := chromedp.Run(attempt, chromedp.Evaluate[seen](expr))
		cancel()
		switch {
		case err == nil:
			last, lastErr = s, nil
			if s.Found && strings.Contains(s.Text, substring) {
				return nil
			}
		case ctx.Err() == nil: // not just cut short by the end of ctx
			lastErr = err
		}
		select {
		case <-ctx.Done():
			switch {
			case lastErr != nil:
				return fmt.Errorf("wait for %q in %s: %w (last attempt: %v)", substring, selector, ctx.Err(), lastErr)
			case !last.Found:
				return fmt.Errorf("wait for %q in %s: %w (no such element)", substring, selector, ctx.Err())
			default:
				return fmt.Errorf("wait for %q in %s: %w (its text: %q)", substring, selector, ctx.Err(), last.Text)
			}
		case <-tick.C:
		}
	}
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (tab *Tab) WaitVisible(selector string) {
	tab.t.Helper()
	if err := chromedp.Do(tab.ctx, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		tab.fail("wait for %s to be visible: %v", selector, err)
	}
}

// WaitAbsent waits until no element matches the CSS selector.
func (tab *Tab) WaitAbsent(selector string) {
	tab.t.Helper()
	if err := chromedp.Do(tab.ctx, chromedp.WaitNotPresent(chromedp.CSS(selector))); err != nil {
		tab.fail("wait for %s to be gone: %v", selector, err)
	}
}

// Count returns how many elements match the CSS selector now, without waiting: 0 proves
// an element is absent from a page already shown (after a WaitText on that page).
func (tab *Tab) Count(selector string) int {
	tab.t.Helper()
	n, err := chromedp.Run(tab.ctx, chromedp.Evaluate[int](
		fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(selector))))
	if err != nil {
		tab.fail("count %s: %v", selector, err)
	}
	return n
}

// Screenshot saves a PNG of the whole page (beyond the window too) as name.png and logs
// and returns its path. See ScreenshotsEnv for where.
func (tab *Tab) Screenshot(name string) string {
	tab.t.Helper()
	path, err := tab.screenshot(name)
	if err != nil {
		tab.fail("%v", err)
	}
	tab.t.Logf("browsertest: screenshot %s", path)
	return path
}

func (tab *Tab) screenshot(name string) (string, error) {
	png, err := chromedp.Run(tab.ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	dir, err := tab.screenshotDir()
	if err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	path := filepath.Join(dir, fileName(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	return path, nil
}

// screenshotDir returns (making it on first use) the directory for the tab's screenshots.
func (tab *Tab) screenshotDir() (string, error) {
	if tab.shots != "" {
		return tab.shots, nil
	}
	keep := os.Getenv(ScreenshotsEnv)
	if keep == "" {
		tab.shots = tab.t.TempDir()
		return tab.shots, nil
	}
	dir := filepath.Join(keep, fileName(tab.t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("screenshot directory: %w", err)
	}
	tab.shots = dir
	return dir, nil
}

// JSErrors returns what the pages of the tab reported as errors so far: console.error
// calls and uncaught exceptions (with where they were thrown). It first waits until
// every console message the page wrote before the call has been collected.
func (tab *Tab) JSErrors() []string {
	tab.t.Helper()
	if err := tab.console.flush(tab.ctx); err != nil {
		tab.fail("collect the console messages: %v", err)
	}
	return tab.console.errors()
}

// NoJSErrors fails the test if the pages of the tab reported any JavaScript error.
func (tab *Tab) NoJSErrors() {
	tab.t.Helper()
	if errs := tab.JSErrors(); len(errs) > 0 {
		tab.fail("the page reported %d JavaScript error(s):\n\t%s", len(errs), strings.Join(errs, "\n\t"))
	}
}

// fail saves a screenshot of the page, if the tab still answers, then fails the test.
func (tab *Tab) fail(format string, args ...any) {
	tab.t.Helper()
	if tab.ctx.Err() == nil {
		if path, err := tab.screenshot("failure"); err == nil {
			tab.t.Logf("browsertest: the page at the failure: %s", path)
		}
	}
	tab.t.Fatalf("browsertest: "+format, args...)
}

// consoleLog collects a tab's JavaScript errors in a goroutine that ends with the tab.
type consoleLog struct {
	done chan struct{}

	mu      sync.Mutex
	errs    []string
	markers map[string]chan struct{} // flush markers not seen yet
	next    int
}

func collectConsole(ctx context.Context) *consoleLog {
	c := &consoleLog{done: make(chan struct{}), markers: make(map[string]chan struct{})}
	messages := chromedp.Console(ctx) // subscribed from here on, before any navigation
	go func() {
		defer close(c.done)
		for m, err := range messages {
			if err != nil {
				return // the tab is closed
			}
			c.add(m)
		}
	}()
	return c
}

func (c *consoleLog) add(m chromedp.ConsoleMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if seen, ok := c.markers[m.Text]; ok && m.Type == chromedp.ConsoleDebug {
		delete(c.markers, m.Text)
		close(seen)
		return
	}
	// Source is set only on the browser's own log (a failed favicon.ico, a network
	// error): not the page's JavaScript.
	if m.Source != "" || (m.Type != chromedp.ConsoleError && !m.IsException()) {
		return
	}
	text := m.String()
	if m.URL != "" {
		text += fmt.Sprintf(" (%s:%d:%d)", m.URL, m.Line+1, m.Column+1)
	}
	c.errs = append(c.errs, text)
}

func (c *consoleLog) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// flush writes a marker to the page's console and waits for the collector to see it:
// the browser sends console messages in order, so every earlier one is collected then.
func (c *consoleLog) flush(ctx context.Context) error {
	c.mu.Lock()
	c.next++
	marker := fmt.Sprintf("browsertest: flush %d", c.next)
	seen := make(chan struct{})
	c.markers[marker] = seen
	c.mu.Unlock()

	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](
		fmt.Sprintf(`console.debug(%s)`, jsString(marker)))); err != nil {
		return err
	}
	select {
	case <-seen:
		return nil
	case <-c.done:
		return errors.New("the tab is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// findChromium returns the browser binary, or why there is none.
func findChromium() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", ChromiumEnv, p, err)
		}
		return path, nil
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no Chromium: none of %s on PATH and %s unset (install Debian's chromium package, as .ci/run does)",
		strings.Join(chromiumNames, ", "), ChromiumEnv)
}

// deadline is when the test's browser work must end: Timeout from now, or a little
// before go test's own deadline when that comes first.
func deadline(t testing.TB) time.Time {
	d := time.Now().Add(Timeout)
	if td, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := td.Deadline(); ok && end.Add(-5*time.Second).Before(d) {
			d = end.Add(-5 * time.Second)
		}
	}
	return d
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// fileName makes s safe as a file name: a test name has slashes, a label spaces.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
