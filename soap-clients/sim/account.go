package sim

import "encoding/xml"

const nsAccount = "urn:bangbang:partner:account:v1"

type accountOps struct {
	w *world
	f faults
}

func newAccount(w *world) *service {
	s := newService(Account, "AccountService", nsAccount)
	a := &accountOps{w: w, f: s.faults}
	s.add("GetCreditBalance", a.getCreditBalance)
	s.add("ListCreditPackages", a.listCreditPackages)
	s.add("BuyCreditPackage", a.buyCreditPackage)
	return s
}

type getCreditBalanceResponse struct {
	XMLName       xml.Name `xml:"urn:bangbang:partner:account:v1 GetCreditBalanceResponse"`
	MerchantID    string   `xml:"merchantId"`
	Credits       int64    `xml:"credits"`
	FrozenCredits int64    `xml:"frozenCredits"`
	AsOf          string   `xml:"asOf"`
}

func (a *accountOps) getCreditBalance(el *element) (any, error) {
	r := fields{el: el, f: a.f}
	merchant := r.str("merchantId", true, 32)
	if r.err != nil {
		return nil, r.err
	}
	credits, ok := a.w.balance(merchant)
	if !ok {
		return nil, a.f.notFound("merchant", merchant)
	}
	return &getCreditBalanceResponse{
		MerchantID:    merchant,
		Credits:       credits,
		FrozenCredits: frozenCreditsOf(merchant),
		AsOf:          xsdDateTime(a.w.now()),
	}, nil
}

type listCreditPackagesResponse struct {
	XMLName  xml.Name         `xml:"urn:bangbang:partner:account:v1 ListCreditPackagesResponse"`
	Packages []creditPackageX `xml:"creditPackage"`
}

type creditPackageX struct {
	Code       string `xml:"code"`
	Name       string `xml:"name"`
	Credits    int64  `xml:"credits"`
	PriceCents int64  `xml:"priceCents"`
	Currency   string `xml:"currency"`
}

func (a *accountOps) listCreditPackages(el *element) (any, error) {
	r := fields{el: el, f: a.f}
	merchant := r.str("merchantId", true, 32)
	if r.err != nil {
		return nil, r.err
	}
	if !knownMerchant(merchant) {
		return nil, a.f.notFound("merchant", merchant)
	}
	resp := &listCreditPackagesResponse{}
	for _, p := range creditPackages() {
		resp.Packages = append(resp.Packages, creditPackageX{
			Code: p.code, Name: p.name, Credits: p.credits, PriceCents: p.price, Currency: p.currency,
		})
	}
	return resp, nil
}

type buyCreditPackageResponse struct {
	XMLName      xml.Name `xml:"urn:bangbang:partner:account:v1 BuyCreditPackageResponse"`
	OrderID      string   `xml:"orderId"`
	PackageCode  string   `xml:"packageCode"`
	CreditsAdded int64    `xml:"creditsAdded"`
	Balance      int64    `xml:"balance"`
	AmountCents  int64    `xml:"amountCents"`
	Currency     string   `xml:"currency"`
	PurchasedAt  string   `xml:"purchasedAt"`
}

func (a *accountOps) buyCreditPackage(el *element) (any, error) {
	r := fields{el: el, f: a.f}
	merchant := r.str("merchantId", true, 32)
	code := r.str("packageCode", true, 32)
	requestID := r.str("requestId", true, 64)
	if r.err != nil {
		return nil, r.err
	}
	if !knownMerchant(merchant) {
		return nil, a.f.notFound("merchant", merchant)
	}
	pkg, ok := findPackage(code)
	if !ok {
		return nil, a.f.notFound("creditPackage", code)
	}
	o, err := a.w.buy(a.f, merchant, pkg, requestID)
	if err != nil {
		return nil, err
	}
	return &buyCreditPackageResponse{
		OrderID:      o.id,
		PackageCode:  o.pkg.code,
		CreditsAdded: o.pkg.credits,
		Balance:      o.balance,
		AmountCents:  o.pkg.price,
		Currency:     o.pkg.currency,
		PurchasedAt:  xsdDateTime(o.at),
	}, nil
}
