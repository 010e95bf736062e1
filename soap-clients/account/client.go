package account

import (
	"fmt"

	gen "github.com/bangbang-im/bangbang/gen/soap/account"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
)

// Name is the line's name in configuration, spans and errors.
const Name = "account"

// Namespace is the target namespace of idl/wsdl/account.wsdl.
const Namespace = "urn:bangbang:partner:account:v1"

// Client is the merchant account line's generated port over its call policy.
type Client struct {
	*partner.Client
	Port gen.AccountPortType
}

// New builds the client; cfg's Name and Namespace are set here.
func New(cfg partner.Config) (*Client, error) {
	cfg.Name, cfg.Namespace = Name, Namespace
	pc, err := partner.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("account client: %w", err)
	}
	return &Client{Client: pc, Port: gen.NewAccountPortType(pc.SOAP)}, nil
}
