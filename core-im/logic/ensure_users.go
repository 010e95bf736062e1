package logic

import (
	"context"

	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// EnsureUsers creates the accounts of users that do not exist yet, in one store statement,
// and leaves existing accounts as they are (never their password or kind), so an import
// that runs again changes nothing. New accounts have no password hash: no password matches
// it, and Authenticate answers it as a wrong password until one is set. One bad entry
// fails the call, naming its index, and nothing is written.
func (s *Service) EnsureUsers(ctx context.Context, req *logicgen.EnsureUsersRequest) (_ *logicgen.EnsureUsersResponse, err error) {
	ctx, done := s.observe(ctx, "EnsureUsers", "")
	defer func() { done(err) }()
	if len(req.Users) == 0 || len(req.Users) > MaxBatchItems {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "ensure users: 1..%d users", MaxBatchItems)
	}
	now := s.now()
	us := make([]store.User, len(req.Users))
	for i, u := range req.Users {
		switch {
		case u == nil:
			return nil, imError(common.ErrorCode_BAD_REQUEST, "ensure users: users[%d]: missing", i)
		case !validID(u.UserId):
			return nil, imError(common.ErrorCode_BAD_REQUEST, "ensure users: users[%d]: user_id must be 1..%d bytes", i, MaxIDBytes)
		case u.Kind != store.UserMerchant && u.Kind != store.UserCustomer:
			return nil, imError(common.ErrorCode_BAD_REQUEST, "ensure users: users[%d]: kind must be merchant or customer", i)
		case u.DisplayName == "" || len(u.DisplayName) > store.MaxDisplayNameBytes:
			return nil, imError(common.ErrorCode_BAD_REQUEST,
				"ensure users: users[%d]: display_name must be 1..%d bytes", i, store.MaxDisplayNameBytes)
		}
		us[i] = store.User{ID: u.UserId, Kind: u.Kind, DisplayName: u.DisplayName, CreatedAt: now}
	}
	created, err := s.store.PutUsersIfAbsent(ctx, us)
	if err != nil {
		return nil, s.storeError(ctx, "ensure users", err, "users", len(us))
	}
	return &logicgen.EnsureUsersResponse{Created: int32(created)}, nil
}
