package campaign

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Templates are text from outside (staff). Whatever they hold, Validate answers a
// FieldError or accepts, never panics; and a spec it accepts renders for an ordinary
// merchant or fails with a FieldError naming the message field (a target that renders
// too long for one merchant's data): the worker records that recipient as failed with
// that reason, and sends the rest.
func FuzzSpecTemplates(f *testing.F) {
	f.Add("Hi {{.Name}}", "Offers in {{.City}}", "Go", "L{{.ID}}-01")
	f.Add("{{range .Tags}}{{.}}{{end}}", "{{if eq .City \"Paris\"}}x{{else}}y{{end}}", "", "")
	f.Add("{{.Nope}}", "{{template \"x\"}}", "{{", "}}")
	f.Add("{{printf \"%v\" .}}", "{{len .Tags}}", "{{with .Name}}{{.}}{{end}}", "{{index .Tags 5}}")
	merchants := []Merchant{
		{ID: "m1", Name: "Alpha", City: "Paris", Category: "housing", Tags: []string{"vip", "new"}},
		{ID: "m2", Name: strings.Repeat("n", MaxNameBytes)},
		{ID: "m3"},
	}
	f.Fuzz(func(t *testing.T, title, body, label, target string) {
		sp := Spec{Name: "fuzz", Audience: Audience{MerchantIDs: []string{"m1"}},
			Message: Message{Title: title, Body: body}}
		if label != "" {
			sp.Message.Action = &Action{Label: label, Type: "listing.refresh", Target: target}
		}
		err := sp.Validate(time.Now())
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "message.") {
				t.Fatalf("Validate: %v, want a FieldError on a message field", err)
			}
			return
		}
		for _, m := range merchants {
			_, err := Render("cmp_x", sp, m, false)
			var fe *FieldError
			if err != nil && (!errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "message.")) {
				t.Fatalf("render for %s: %v, want success or a FieldError on a message field", m.ID, err)
			}
		}
	})
}
