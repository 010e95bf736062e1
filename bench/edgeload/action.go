package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hooklift/gowsdl/soap"

	genaccount "github.com/bangbang-im/bangbang/gen/soap/account"
	genhousing "github.com/bangbang-im/bangbang/gen/soap/housing"
)

// statsDays is the range GetListingStats asks for: a week, as the app's chart shows.
const statsDays = 7

// action is one marketing read, in both its forms: the edge route and the SOAP operation.
// Each form checks the answer is the one asked for, so a phase cannot count a wrong
// answer as done.
type action struct {
	Name string
	Line string // "housing" or "account": which simulator the bare form calls
	// Path is the edge route for merchant, with its query.
	Path func(merchant string) string
	// Check decodes the edge's JSON answer and checks it.
	Check func(merchant string, body []byte) error
	// Bare returns the call of the generated port on c.
	Bare func(c *soap.Client) func(ctx context.Context, merchant string) error
}

// actions are the reads a benchmark may use: reads have no quota in the simulator and
// spend no credits, so a run can last as long as it likes.
func actions(today time.Time) map[string]action {
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	from := to.AddDate(0, 0, -(statsDays - 1))
	return map[string]action{
		"GetCreditBalance": {
			Name: "GetCreditBalance", Line: "account",
			Path:  func(string) string { return "/v1/credits" },
			Check: checkCredits,
			Bare: func(c *soap.Client) func(context.Context, string) error {
				port := genaccount.NewAccountPortType(c)
				return func(ctx context.Context, m string) error {
					res, err := port.GetCreditBalanceContext(ctx, &genaccount.GetCreditBalance{MerchantId: m})
					if err != nil {
						return fmt.Errorf("GetCreditBalance: %w", err)
					}
					if res.MerchantId != m {
						return fmt.Errorf("GetCreditBalance for %s answered for %q: %w", m, res.MerchantId, ErrWrongAnswer)
					}
					return nil
				}
			},
		},
		"GetListingStats": {
			Name: "GetListingStats", Line: "housing",
			Path: func(m string) string {
				q := url.Values{"from": {from.Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}}
				return "/v1/listings/" + listingOf(m) + "/stats?" + q.Encode()
			},
			Check: checkStats,
			Bare: func(c *soap.Client) func(context.Context, string) error {
				port := genhousing.NewHousingPortType(c)
				// Sent without a zone, as the edge sends them.
				fromX, toX := soap.CreateXsdDate(from, false), soap.CreateXsdDate(to, false)
				return func(ctx context.Context, m string) error {
					l := listingOf(m)
					res, err := port.GetListingStatsContext(ctx, &genhousing.GetListingStats{
						MerchantId: m, ListingId: l, FromDate: fromX, ToDate: toX})
					if err != nil {
						return fmt.Errorf("GetListingStats: %w", err)
					}
					if res.ListingId != l || len(res.Day) != statsDays {
						return fmt.Errorf("GetListingStats for %s answered %q with %d days: %w", l, res.ListingId, len(res.Day), ErrWrongAnswer)
					}
					return nil
				}
			},
		},
	}
}

func actionNames() []string {
	names := make([]string, 0, 2)
	for n := range actions(time.Time{}) {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// listingOf is the merchant's first listing in the simulator's catalogue.
func listingOf(merchant string) string { return "L" + merchant + "-01" }

func checkCredits(m string, body []byte) error {
	var v struct {
		MerchantID string `json:"merchant_id"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("decode credits: %w: %w", ErrWrongAnswer, err)
	}
	if v.MerchantID != m {
		return fmt.Errorf("credits of %s answered for %q: %w", m, v.MerchantID, ErrWrongAnswer)
	}
	return nil
}

func checkStats(m string, body []byte) error {
	var v struct {
		ListingID string            `json:"listing_id"`
		Days      []json.RawMessage `json:"days"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("decode stats: %w: %w", ErrWrongAnswer, err)
	}
	if l := listingOf(m); v.ListingID != l || len(v.Days) != statsDays {
		return fmt.Errorf("stats of %s answered %q with %d days: %w", l, v.ListingID, len(v.Days), ErrWrongAnswer)
	}
	return nil
}

// lineURL picks the simulator endpoint of line.
func lineURL(line, housingURL, accountURL string) string {
	if strings.EqualFold(line, "housing") {
		return housingURL
	}
	return accountURL
}
