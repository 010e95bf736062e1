package recruitment

import (
	"fmt"

	gen "github.com/bangbang-im/bangbang/gen/soap/recruitment"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
)

// Name is the line's name in configuration, spans and errors.
const Name = "recruitment"

// Namespace is the target namespace of idl/wsdl/recruitment.wsdl.
const Namespace = "urn:bangbang:partner:recruitment:v1"

// Client is the recruitment line's generated port over its call policy.
type Client struct {
	*partner.Client
	Port gen.RecruitmentPortType
}

// New builds the client; cfg's Name and Namespace are set here.
func New(cfg partner.Config) (*Client, error) {
	cfg.Name, cfg.Namespace = Name, Namespace
	pc, err := partner.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("recruitment client: %w", err)
	}
	return &Client{Client: pc, Port: gen.NewRecruitmentPortType(pc.SOAP)}, nil
}
