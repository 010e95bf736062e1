package campaign

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docs/protocol.md shows a campaign message as an app receives it: the example must be what
// Render produces, and the action types it lists must be the ones there are.
func TestProtocolDocShowsARenderedMessage(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	_, after, ok := strings.Cut(text, "<!-- campaign-message -->\n```json\n")
	if !ok {
		t.Fatal("docs/protocol.md has no campaign-message example")
	}
	example, _, _ := strings.Cut(after, "\n```")
	sp := Spec{Message: Message{Title: "Spring offer for {{.Name}}",
		Body:   "Refresh your {{.City}} listings this week: top of the results until Sunday.",
		Action: &Action{Label: "Refresh now", Type: "listing.refresh", Target: "L{{.ID}}-01"}}}
	r, err := Render("cmp_4f1c2a9e7b3d5a60", sp, Merchant{ID: "m1001", Name: "Merchant 1001", City: "Shanghai"}, false)
	if err != nil {
		t.Fatal(err)
	}
	body, err := r.body()
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != example {
		t.Fatalf("docs/protocol.md shows\n%s\nRender gives\n%s", example, body)
	}
	section, _, _ := strings.Cut(after, "### ")
	var listed []string
	for _, m := range regexp.MustCompile("`((?:credits|credit_packages|leads|listing|job)[a-z._]*)`").FindAllStringSubmatch(section, -1) {
		listed = append(listed, m[1])
	}
	slices.Sort(listed)
	listed = slices.Compact(listed)
	if !slices.Equal(listed, ActionTypes()) {
		t.Fatalf("docs/protocol.md lists %v, the action types are %v", listed, ActionTypes())
	}
}
