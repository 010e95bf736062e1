package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"slices"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

type loginRequest struct {
	UserID   string `json:"user_id"`
	Password string `json:"password"`
}

type imAddrs struct {
	TCP   string   `json:"tcp"`
	WS    string   `json:"ws"`
	Nodes []IMNode `json:"nodes,omitempty"`
}

// IMNode is one gateway's addresses, as /v1/login lists them.
type IMNode struct {
	TCP string `json:"tcp"`
	WS  string `json:"ws,omitempty"`
}

// imFor is what /v1/login tells user to connect to: with a gateway list, every gateway,
// starting at one picked by the user id (users spread over the gateways, and a user's
// devices meet on the same one), the first also as tcp and ws; else, or while the list
// cannot be had, the configured addresses.
func (s *Server) imFor(ctx context.Context, user string) imAddrs {
	static := imAddrs{TCP: s.cfg.IMTCP, WS: s.cfg.IMWS}
	if s.imNodes == nil {
		return static
	}
	nodes, err := s.imNodes(ctx)
	if len(nodes) == 0 {
		s.log.WarnContext(ctx, "login: no gateway list; naming the configured IM address", "err", err)
		return static
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(user))
	k := int(h.Sum32() % uint32(len(nodes)))
	ordered := append(slices.Clone(nodes[k:]), nodes[:k]...)
	return imAddrs{TCP: ordered[0].TCP, WS: ordered[0].WS, Nodes: ordered}
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	UserID    string    `json:"user_id"`
	Kind      string    `json:"kind"`
	IM        imAddrs   `json:"im"`
}

// login checks the password through logic and signs a token for the IM connection and the
// edge alike.
func (s *Server) login(ctx context.Context, c *app.RequestContext) {
	var req loginRequest
	dec := json.NewDecoder(bytes.NewReader(c.Request.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		writeError(c, 400, CodeBadRequest, "body must be {\"user_id\": string, \"password\": string}")
		return
	}
	if req.UserID == "" || req.Password == "" || len(req.UserID) > 64 || len(req.Password) > 72 {
		writeError(c, 400, CodeBadRequest, "user_id (1..64 bytes) and password (1..72 bytes) are required")
		return
	}
	if !printableText(req.UserID) {
		writeError(c, 400, CodeBadRequest, "user_id must be UTF-8 text without control characters")
		return
	}
	if !s.admitLogin(ctx, c, req.UserID) {
		return
	}
	u, err := s.logic.Authenticate(ctx, &logicgen.AuthenticateRequest{UserId: req.UserID, Password: req.Password})
	if err != nil {
		var ie *common.IMError
		if errors.As(err, &ie) && ie.Code == int32(common.ErrorCode_UNAUTHENTICATED) {
			if s.logins != nil {
				s.logins.Failed()
			}
			s.log.WarnContext(ctx, "login refused: wrong password or unknown user", "user", req.UserID, "remote", c.RemoteAddr().String())
			writeError(c, 401, CodeUnauthenticated, "unknown user or wrong password")
			return
		}
		s.logicError(ctx, c, "login", err)
		return
	}
	if s.logins != nil {
		s.logins.Succeeded()
	}
	token, exp, err := s.tokens.Issue(u.UserId, u.Kind)
	if err != nil {
		s.log.ErrorContext(ctx, "login: issue token", "user", req.UserID, "err", err)
		writeError(c, 500, CodeInternal, "internal error")
		return
	}
	c.JSON(200, loginResponse{Token: token, ExpiresAt: exp.UTC(), UserID: u.UserId, Kind: u.Kind,
		IM: s.imFor(ctx, u.UserId)})
}
