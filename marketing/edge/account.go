package edge

import (
	"context"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	genaccount "github.com/bangbang-im/bangbang/gen/soap/account"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
)

type creditsView struct {
	MerchantID    string    `json:"merchant_id"`
	Credits       int64     `json:"credits"`
	FrozenCredits int64     `json:"frozen_credits"`
	AsOf          time.Time `json:"as_of"`
}

type creditPackageView struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Credits    int64  `json:"credits"`
	PriceCents int64  `json:"price_cents"`
	Currency   string `json:"currency"`
}

type creditPackagesView struct {
	Packages []creditPackageView `json:"packages"`
}

type purchaseRequest struct {
	PackageCode string `json:"package_code"`
}

type purchaseView struct {
	OrderID      string    `json:"order_id"`
	PackageCode  string    `json:"package_code"`
	CreditsAdded int64     `json:"credits_added"`
	Balance      int64     `json:"balance"`
	AmountCents  int64     `json:"amount_cents"`
	Currency     string    `json:"currency"`
	PurchasedAt  time.Time `json:"purchased_at"`
}

// getCredits: GET /v1/credits.
func (s *Server) getCredits(ctx context.Context, c *app.RequestContext) {
	m := merchantOf(c)
	res, err := partner.Do(ctx, s.account.Client, "GetCreditBalance", true,
		func(ctx context.Context) (*genaccount.GetCreditBalanceResponse, error) {
			return s.account.Port.GetCreditBalanceContext(ctx, &genaccount.GetCreditBalance{MerchantId: m})
		})
	if err != nil {
		s.upstreamError(ctx, c, lineAccount, "GetCreditBalance", err).write(c)
		return
	}
	okReply(creditsView{MerchantID: m, Credits: res.Credits, FrozenCredits: res.FrozenCredits, AsOf: utc(res.AsOf)}).write(c)
}

// listCreditPackages: GET /v1/credit-packages.
func (s *Server) listCreditPackages(ctx context.Context, c *app.RequestContext) {
	m := merchantOf(c)
	res, err := partner.Do(ctx, s.account.Client, "ListCreditPackages", true,
		func(ctx context.Context) (*genaccount.ListCreditPackagesResponse, error) {
			return s.account.Port.ListCreditPackagesContext(ctx, &genaccount.ListCreditPackages{MerchantId: m})
		})
	if err != nil {
		s.upstreamError(ctx, c, lineAccount, "ListCreditPackages", err).write(c)
		return
	}
	v := creditPackagesView{Packages: make([]creditPackageView, 0, len(res.CreditPackage))}
	for _, p := range res.CreditPackage {
		if p == nil {
			continue
		}
		v.Packages = append(v.Packages, creditPackageView{Code: p.Code, Name: p.Name, Credits: p.Credits, PriceCents: p.PriceCents, Currency: p.Currency})
	}
	okReply(v).write(c)
}

// buyCreditPackage: POST /v1/credits/purchases, paid, with an Idempotency-Key.
func (s *Server) buyCreditPackage(ctx context.Context, c *app.RequestContext) {
	m := merchantOf(c)
	var req purchaseRequest
	if bad := decodeBody(c, &req, `{"package_code": string}`); bad != nil {
		bad.reply(c).write(c)
		return
	}
	if !validID(req.PackageCode) {
		badRequest("package_code must be 1..%d letters, digits, '_' or '-'", maxIDLen).reply(c).write(c)
		return
	}
	s.paid(ctx, c, "BuyCreditPackage", func(ctx context.Context, requestID string) reply {
		res, err := partner.Do(ctx, s.account.Client, "BuyCreditPackage", false,
			func(ctx context.Context) (*genaccount.BuyCreditPackageResponse, error) {
				return s.account.Port.BuyCreditPackageContext(ctx, &genaccount.BuyCreditPackage{
					MerchantId: m, PackageCode: req.PackageCode, RequestId: requestID})
			})
		if err != nil {
			return s.upstreamError(ctx, c, lineAccount, "BuyCreditPackage", err)
		}
		return okReply(purchaseView{OrderID: res.OrderId, PackageCode: res.PackageCode, CreditsAdded: res.CreditsAdded,
			Balance: res.Balance, AmountCents: res.AmountCents, Currency: res.Currency, PurchasedAt: utc(res.PurchasedAt)})
	})
}
