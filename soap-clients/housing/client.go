package housing

import (
	"fmt"

	gen "github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
)

// Name is the line's name in configuration, spans and errors.
const Name = "housing"

// Namespace is the target namespace of idl/wsdl/housing.wsdl.
const Namespace = "urn:bangbang:partner:housing:v1"

// Client is the housing line's generated port over its call policy.
type Client struct {
	*partner.Client
	Port gen.HousingPortType
}

// New builds the client; cfg's Name and Namespace are set here.
func New(cfg partner.Config) (*Client, error) {
	cfg.Name, cfg.Namespace = Name, Namespace
	pc, err := partner.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("housing client: %w", err)
	}
	return &Client{Client: pc, Port: gen.NewHousingPortType(pc.SOAP)}, nil
}
