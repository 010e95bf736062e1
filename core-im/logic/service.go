package logic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/tracing"
)

// Limits on what a request may carry. Ids are bounded so that store keys built from them
// (campaign dedup keys are "<key>/<user>") stay within the store's 128-byte limit.
const (
	MaxIDBytes       = 64
	MaxBodyBytes     = protocol.MaxMessageBody // 63 KiB: the largest message still fits a PUSH or SYNC_RESP
	MaxContentType   = 128
	MaxPushUsers     = 1000
	MaxBatchItems    = 1000 // items of one Receipts call, users of one EnsureUsers call
	DefaultSyncLimit = 100
	MaxSyncLimit     = 500
)

// Gateways resolves a node id from the route table to that node's push service.
type Gateways interface {
	Gateway(node string) (gatewaygen.GatewayService, error)
}

// Config tunes the logic layer.
type Config struct {
	// HeartbeatInterval is what clients are told to keep; 0 means 30s.
	HeartbeatInterval time.Duration
	// RouteTTL is how long a route lives without renewal; 0 means 3×HeartbeatInterval, so
	// a gateway that dies takes its users offline within that time.
	RouteTTL time.Duration
	// PushShards is the number of push dispatcher goroutines; 0 means 8.
	PushShards int
	// PushQueue is each shard's queue length; 0 means 1024. A full queue makes Send wait
	// (backpressure) rather than drop a push.
	PushQueue int
	// PushTimeout bounds one Deliver call to a gateway; 0 means 5s.
	PushTimeout time.Duration
	// PushRetryFor is how long a failed message push (route table or gateway unreachable)
	// is retried, with backoff from 250ms to 4s; 0 means 2m. Past it the device fetches the
	// message when it syncs (on reconnect, on a gap, on its idle timer).
	PushRetryFor time.Duration
	// PushRetryUsers bounds the users with a push waiting for a retry; 0 means 100000.
	PushRetryUsers int
	// TracerProvider, when set, gives each call made inside a trace a span ("logic.Send",
	// ...), and each push of a traced send a "logic.push" span in the same trace. Calls
	// outside any trace (route renewals) make none.
	TracerProvider trace.TracerProvider
	// Metrics, when set, records call and push latencies (see NewMetrics).
	Metrics *Metrics
}

func (c *Config) defaults() {
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 30 * time.Second
	}
	if c.RouteTTL <= 0 {
		c.RouteTTL = 3 * c.HeartbeatInterval
	}
	if c.PushShards <= 0 {
		c.PushShards = 8
	}
	if c.PushQueue <= 0 {
		c.PushQueue = 1024
	}
	if c.PushTimeout <= 0 {
		c.PushTimeout = 5 * time.Second
	}
	if c.PushRetryFor <= 0 {
		c.PushRetryFor = 2 * time.Minute
	}
	if c.PushRetryUsers <= 0 {
		c.PushRetryUsers = 100000
	}
	if c.TracerProvider == nil {
		c.TracerProvider = noop.NewTracerProvider()
	}
}

// Service is the local implementation of LogicService.
type Service struct {
	cfg     Config
	store   store.Store
	routes  router.Table
	gws     Gateways
	log     *slog.Logger
	users   *userCache
	push    *dispatcher
	retry   *redelivery
	tracer  trace.Tracer // inside a trace only (tracing.ChildOnly)
	metrics *Metrics
	now     func() time.Time
}

var _ logicgen.LogicService = (*Service)(nil)

// New returns a Service over st and rt, pushing through gws. Close stops its dispatchers.
func New(cfg Config, st store.Store, rt router.Table, gws Gateways, logger *slog.Logger) *Service {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, store: st, routes: rt, gws: gws, log: logger, users: newUserCache(4096), now: time.Now,
		tracer: tracing.ChildOnly(cfg.TracerProvider).Tracer(instrumentationName), metrics: cfg.Metrics}
	s.push = newDispatcher(cfg.PushShards, cfg.PushQueue, s.deliverAll, logger)
	s.retry = newRedelivery(s.push.requeue, cfg.PushRetryFor, cfg.PushRetryUsers, cfg.Metrics, logger)
	return s
}

// Close stops the push retries, then the push dispatchers after they finish what is
// queued. It does not close the store or the route table: their owner does.
func (s *Service) Close() {
	s.retry.stop()
	s.push.close()
}

// Authenticate checks a user's password.
func (s *Service) Authenticate(ctx context.Context, req *logicgen.AuthenticateRequest) (_ *logicgen.AuthenticateResponse, err error) {
	ctx, done := s.observe(ctx, "Authenticate", req.UserId)
	defer func() { done(err) }()
	if !validID(req.UserId) || req.Password == "" || len(req.Password) > auth.MaxPasswordBytes {
		return nil, imError(common.ErrorCode_UNAUTHENTICATED, "bad credentials")
	}
	u, err := s.store.GetUser(ctx, req.UserId)
	if errors.Is(err, store.ErrNotFound) {
		// The same bcrypt work as a wrong password: the time taken says nothing.
		_ = auth.CheckPassword(nil, req.Password)
		return nil, imError(common.ErrorCode_UNAUTHENTICATED, "bad credentials")
	}
	if err != nil {
		return nil, s.internal(ctx, "authenticate", err, "user", req.UserId)
	}
	if err := auth.CheckPassword(u.PasswordHash, req.Password); err != nil {
		return nil, imError(common.ErrorCode_UNAUTHENTICATED, "bad credentials")
	}
	s.users.add(u.ID)
	return &logicgen.AuthenticateResponse{UserId: u.ID, Kind: u.Kind, DisplayName: u.DisplayName}, nil
}

// Connect registers a freshly authenticated connection. If the same user's device was
// connected elsewhere, that connection is kicked: one session per (user, device).
func (s *Service) Connect(ctx context.Context, req *logicgen.ConnectRequest) (_ *logicgen.ConnectResponse, err error) {
	ctx, done := s.observe(ctx, "Connect", req.UserId)
	defer func() { done(err) }()
	if !validID(req.UserId) || !validID(req.DeviceId) || req.Node == "" || req.ConnId == "" {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "connect: user, device, node and conn are required")
	}
	if err := s.tokenUsable(ctx, "connect", req.UserId, req.TokenId, time.UnixMilli(req.TokenIssuedMs)); err != nil {
		return nil, err
	}
	r := router.Route{UserID: req.UserId, DeviceID: req.DeviceId, Node: req.Node, ConnID: req.ConnId,
		Platform: req.Platform, Since: s.now()}
	replaced, err := s.routes.Put(ctx, r, s.cfg.RouteTTL)
	if err != nil {
		return nil, s.internal(ctx, "connect", err, userAttrs(req.UserId, req.DeviceId)...)
	}
	if replaced != nil {
		s.kick(ctx, *replaced)
	}
	maxSeq, err := s.store.MaxSeq(ctx, req.UserId)
	if err != nil {
		return nil, s.internal(ctx, "connect", err, userAttrs(req.UserId, req.DeviceId)...)
	}
	acked, err := s.store.DeliveredSeq(ctx, req.UserId, req.DeviceId)
	if err != nil {
		return nil, s.internal(ctx, "connect", err, userAttrs(req.UserId, req.DeviceId)...)
	}
	s.users.add(req.UserId)
	return &logicgen.ConnectResponse{MaxSeq: maxSeq, AckedSeq: acked,
		HeartbeatIntervalMs: int32(s.cfg.HeartbeatInterval / time.Millisecond)}, nil
}

// kick tells the node holding an older connection of the same device to close it. A
// failure is logged only: the old route is already replaced, so the old connection gets no
// more pushes and its own renewal reports it lost.
func (s *Service) kick(ctx context.Context, old router.Route) {
	gw, err := s.gws.Gateway(old.Node)
	if err == nil {
		_, err = gw.Kick(ctx, &gatewaygen.KickRequest{ConnId: old.ConnID, Reason: 1, Message: "logged in on the same device elsewhere"})
	}
	if err != nil {
		s.log.WarnContext(ctx, "kick replaced connection", "node", old.Node, "conn", old.ConnID, "err", err)
	}
}

// Disconnect removes a closed connection's route, unless a newer connection holds it.
func (s *Service) Disconnect(ctx context.Context, req *logicgen.DisconnectRequest) (_ *logicgen.DisconnectResponse, err error) {
	ctx, done := s.observe(ctx, "Disconnect", req.GetRoute().GetUserId())
	defer func() { done(err) }()
	if req.Route == nil || !validID(req.Route.UserId) || !validID(req.Route.DeviceId) {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "disconnect: route required")
	}
	r := router.Route{UserID: req.Route.UserId, DeviceID: req.Route.DeviceId, Node: req.Node, ConnID: req.Route.ConnId}
	if _, err := s.routes.Remove(ctx, r); err != nil {
		return nil, s.internal(ctx, "disconnect", err, userAttrs(r.UserID, r.DeviceID)...)
	}
	return &logicgen.DisconnectResponse{}, nil
}

// Renew extends the routes of a gateway's live connections.
func (s *Service) Renew(ctx context.Context, req *logicgen.RenewRequest) (_ *logicgen.RenewResponse, err error) {
	ctx, done := s.observe(ctx, "Renew", "")
	defer func() { done(err) }()
	if req.Node == "" || len(req.Routes) > 10000 {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "renew: node required, at most 10000 routes")
	}
	rs := make([]router.Route, 0, len(req.Routes))
	for _, r := range req.Routes {
		if r == nil {
			continue
		}
		rs = append(rs, router.Route{UserID: r.UserId, DeviceID: r.DeviceId, Node: req.Node, ConnID: r.ConnId})
	}
	lost, err := s.routes.Renew(ctx, rs, s.cfg.RouteTTL)
	if err != nil {
		return nil, s.internal(ctx, "renew", err, "node", req.Node)
	}
	resp := &logicgen.RenewResponse{Lost: make([]*logicgen.RouteRef, 0, len(lost))}
	for _, r := range lost {
		resp.Lost = append(resp.Lost, &logicgen.RouteRef{UserId: r.UserID, DeviceId: r.DeviceID, ConnId: r.ConnID})
	}
	return resp, nil
}

// Presence lists the online devices of users.
func (s *Service) Presence(ctx context.Context, req *logicgen.PresenceRequest) (_ *logicgen.PresenceResponse, err error) {
	ctx, done := s.observe(ctx, "Presence", "")
	defer func() { done(err) }()
	if len(req.Users) == 0 || len(req.Users) > MaxPushUsers {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "presence: 1..%d users", MaxPushUsers)
	}
	found, err := s.routes.Lookup(ctx, req.Users)
	if err != nil {
		return nil, s.internal(ctx, "presence", err)
	}
	resp := &logicgen.PresenceResponse{Online: make(map[string][]*logicgen.DeviceRoute, len(found))}
	for user, rs := range found {
		for _, r := range rs {
			resp.Online[user] = append(resp.Online[user], &logicgen.DeviceRoute{DeviceId: r.DeviceID,
				Platform: r.Platform, Node: r.Node, SinceMs: r.Since.UnixMilli()})
		}
	}
	return resp, nil
}

// validID: 1..MaxIDBytes of what the store takes as an id (UTF-8, no NUL).
func validID(s string) bool { return len(s) <= MaxIDBytes && store.ValidID(s) }

func validContentType(s string) bool { return len(s) <= MaxContentType }

// convID names the 1:1 conversation of a and b, the same from either side.
func convID(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return "p:" + a + "|" + b
}

// convPeers returns the two participants of a 1:1 conversation id.
func convPeers(conv string) (string, string, error) {
	if len(conv) < 5 || conv[:2] != "p:" {
		return "", "", fmt.Errorf("not a chat conversation: %q", conv)
	}
	rest := conv[2:]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '|' {
			return rest[:i], rest[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("not a chat conversation: %q", conv)
}
