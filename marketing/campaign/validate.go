package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// Ids of merchants: what the IM core accepts as a user id, and a key of the audit log.
var (
	idPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,47}$`)
	tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
)

// ValidateMerchant normalises m (trims text, lower-cases, sorts and de-duplicates tags)
// and checks every field, answering a *FieldError naming the first one at fault.
func ValidateMerchant(m *Merchant) error {
	m.ID = strings.TrimSpace(m.ID)
	m.Name = strings.TrimSpace(m.Name)
	m.City = strings.TrimSpace(m.City)
	m.Category = strings.TrimSpace(m.Category)
	switch {
	case !idPattern.MatchString(m.ID):
		return fieldErr("id", "1..48 characters of letters, digits and _.:@-, starting with a letter or digit")
	case m.Name == "" || len(m.Name) > MaxNameBytes || !printable(m.Name):
		return fieldErr("name", "1..%d bytes of printable text", MaxNameBytes)
	case len(m.City) > MaxAttrBytes || !printable(m.City):
		return fieldErr("city", "at most %d bytes of printable text", MaxAttrBytes)
	case len(m.Category) > MaxAttrBytes || !printable(m.Category):
		return fieldErr("category", "at most %d bytes of printable text", MaxAttrBytes)
	}
	tags, err := normaliseTags(m.Tags, "tags")
	if err != nil {
		return err
	}
	m.Tags = tags
	return nil
}

func normaliseTags(in []string, field string) ([]string, error) {
	if len(in) > MaxTags {
		return nil, fieldErr(field, "at most %d tags", MaxTags)
	}
	out := make([]string, 0, len(in))
	for i, t := range in {
		t = strings.ToLower(strings.TrimSpace(t))
		if !tagPattern.MatchString(t) {
			return nil, fieldErr(fmt.Sprintf("%s[%d]", field, i), "a tag is 1..32 of a-z, 0-9, _ and -, starting with a letter or digit")
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// validate checks and normalises a segment; field names the segment in error messages.
func (s *Segment) validate(field string) error {
	for _, l := range []struct {
		name string
		vals *[]string
	}{{"cities", &s.Cities}, {"categories", &s.Categories}} {
		if len(*l.vals) > MaxSegmentValues {
			return fieldErr(field+"."+l.name, "at most %d values", MaxSegmentValues)
		}
		for i, v := range *l.vals {
			v = strings.TrimSpace(v)
			if v == "" || len(v) > MaxAttrBytes || !printable(v) {
				return fieldErr(fmt.Sprintf("%s.%s[%d]", field, l.name, i), "1..%d bytes of printable text", MaxAttrBytes)
			}
			(*l.vals)[i] = v
		}
	}
	tags, err := normaliseTags(s.Tags, field+".tags")
	if err != nil {
		return err
	}
	s.Tags = tags
	return nil
}

// validate checks an audience's shape (not whether its merchants exist).
func (a *Audience) validate() error {
	if len(a.MerchantIDs) == 0 && (a.Segment == nil || a.Segment.Empty()) {
		return fieldErr("audience", "name merchant_ids, a segment, or both")
	}
	if len(a.MerchantIDs) > MaxExplicitIDs {
		return fieldErr("audience.merchant_ids", "at most %d ids; use a segment for more", MaxExplicitIDs)
	}
	seen := make(map[string]bool, len(a.MerchantIDs))
	for i, id := range a.MerchantIDs {
		if !idPattern.MatchString(id) {
			return fieldErr(fmt.Sprintf("audience.merchant_ids[%d]", i), "not a merchant id")
		}
		if seen[id] {
			return fieldErr(fmt.Sprintf("audience.merchant_ids[%d]", i), "%s is listed twice", id)
		}
		seen[id] = true
	}
	if a.Segment != nil {
		return a.Segment.validate("audience.segment")
	}
	return nil
}

// Validate checks and normalises a campaign spec as saved: every field it names, the
// templates parsed and their fields known, the send time in the future.
func (sp *Spec) Validate(now time.Time) error {
	sp.Name = strings.TrimSpace(sp.Name)
	if sp.Name == "" || len(sp.Name) > MaxNameBytes || !printable(sp.Name) {
		return fieldErr("name", "1..%d bytes of printable text", MaxNameBytes)
	}
	if err := sp.Audience.validate(); err != nil {
		return err
	}
	if sp.Rate == 0 {
		sp.Rate = DefaultRate
	}
	if sp.Rate < 1 || sp.Rate > MaxRate {
		return fieldErr("rate", "messages per second, 1..%d", MaxRate)
	}
	if sp.SendAt != nil {
		if !sp.SendAt.After(now) {
			return fieldErr("send_at", "must be in the future (now is %s)", now.UTC().Format(time.RFC3339))
		}
		if sp.SendAt.After(now.AddDate(1, 0, 0)) {
			return fieldErr("send_at", "at most a year ahead")
		}
		t := sp.SendAt.UTC().Truncate(time.Millisecond)
		sp.SendAt = &t
	}
	if err := checkTemplate("message.title", sp.Message.Title, 200); err != nil {
		return err
	}
	if err := checkTemplate("message.body", sp.Message.Body, MaxTemplateBytes); err != nil {
		return err
	}
	if act := sp.Message.Action; act != nil {
		if err := checkTemplate("message.action.label", act.Label, 200); err != nil {
			return err
		}
		at, ok := actionTypes[act.Type]
		if !ok {
			return fieldErr("message.action.type", "one of %s", strings.Join(ActionTypes(), ", "))
		}
		if at.needsTarget {
			if err := checkTemplate("message.action.target", act.Target, 200); err != nil {
				return err
			}
		} else if act.Target != "" {
			return fieldErr("message.action.target", "%s takes no target", act.Type)
		}
	}
	return nil
}

// templateFields are what a template may name: the fields of templateData.
var templateFields = map[string]bool{"ID": true, "Name": true, "City": true, "Category": true, "Tags": true}

// checkTemplate parses text as a Go text/template and refuses fields it does not know,
// anywhere in it (a branch not taken for the merchant previewed included).
func checkTemplate(field, text string, maxBytes int) error {
	if strings.TrimSpace(text) == "" {
		return fieldErr(field, "must not be empty")
	}
	if len(text) > maxBytes || !utf8.ValidString(text) {
		return fieldErr(field, "at most %d bytes of UTF-8", maxBytes)
	}
	t, err := parseTemplate(field, text)
	if err != nil {
		return err
	}
	var bad string
	walk(t.Root, func(n parse.Node) {
		if bad != "" {
			return
		}
		switch n := n.(type) {
		case *parse.FieldNode:
			if !templateFields[n.Ident[0]] {
				bad = n.Ident[0]
			}
		case *parse.ChainNode:
			bad = "chained field"
		case *parse.VariableNode:
			if len(n.Ident) > 1 && n.Ident[0] == "$" && !templateFields[n.Ident[1]] {
				bad = n.Ident[1]
			}
		case *parse.TemplateNode:
			bad = "template " + n.Name
		}
	})
	if bad != "" {
		return fieldErr(field, "unknown field %q: templates may use %s", bad, "{{.ID}}, {{.Name}}, {{.City}}, {{.Category}}, {{.Tags}}")
	}
	// A trial on a sample merchant catches what the tree cannot show (a field of a string).
	m := sampleMerchant
	_, err = execute(t, templateData{ID: m.ID, Name: m.Name, City: m.City, Category: m.Category, Tags: m.Tags})
	return err
}

// walk visits every node of a template's tree.
func walk(n parse.Node, visit func(parse.Node)) {
	if n == nil {
		return
	}
	visit(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, visit)
		}
	case *parse.ActionNode:
		walk(n.Pipe, visit)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, d := range n.Decl {
			walk(d, visit)
		}
		for _, c := range n.Cmds {
			walk(c, visit)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, visit)
		}
	case *parse.IfNode:
		walk(n.Pipe, visit)
		walk(n.List, visit)
		walk(n.ElseList, visit)
	case *parse.RangeNode:
		walk(n.Pipe, visit)
		walk(n.List, visit)
		walk(n.ElseList, visit)
	case *parse.WithNode:
		walk(n.Pipe, visit)
		walk(n.List, visit)
		walk(n.ElseList, visit)
	case *parse.ChainNode:
		walk(n.Node, visit)
	}
}
