package logic

import (
	"context"
	"sync"

	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// pushConcurrency bounds the appends one PushToUsers call keeps in flight, which bounds
// the group-commit batches a campaign fills. Measured (BENCHMARKS.md 7), 100k recipients
// uncapped: 256 gave 5.6k/s on PostgreSQL against 2.8k/s at 64 (a commit waits on the
// disk, so more in flight is more per commit) and 6.8k/s against 5.9k/s on SQLite. Chat
// appends share those commits; a campaign's pace, not this bound, keeps it from
// crowding them out.
const pushConcurrency = 256

// PushToUsers stores one system (or marketing) message per user in that user's system
// conversation and pushes it to their online devices. The body is the same for everyone, or
// with bodies one per user (a campaign renders its template per merchant). With a
// dedup_key, a user never gets a second message for the same key: a campaign that restarts
// mid-way repeats no one, and learns the first message's msg_id, seq and conv_seq.
// Per-user failures are reported in the results, not as a call error.
func (s *Service) PushToUsers(ctx context.Context, req *logicgen.PushRequest) (_ *logicgen.PushResponse, err error) {
	ctx, done := s.observe(ctx, "PushToUsers", req.From)
	defer func() { done(err) }()
	switch {
	case len(req.Users) == 0 || len(req.Users) > MaxPushUsers:
		return nil, imError(common.ErrorCode_BAD_REQUEST, "push: 1..%d users", MaxPushUsers)
	case req.Kind != int32(common.MessageKind_SYSTEM) && req.Kind != int32(common.MessageKind_MARKETING):
		return nil, imError(common.ErrorCode_BAD_REQUEST, "push: kind must be SYSTEM or MARKETING")
	case len(req.DedupKey) > MaxIDBytes-1 || len(req.From) > MaxIDBytes || !validContentType(req.ContentType):
		return nil, imError(common.ErrorCode_BAD_REQUEST, "push: dedup_key, from or content_type too long")
	}
	if err := checkPushBodies(req); err != nil {
		return nil, err
	}
	from := req.From
	if from == "" {
		from = "system"
	}
	ct := req.ContentType
	if ct == "" {
		ct = "text/plain"
	}
	results := make([]*logicgen.PushStatus, len(req.Users))
	valid := make([]string, 0, len(req.Users))
	for i, user := range req.Users {
		results[i] = &logicgen.PushStatus{UserId: user}
		if validID(user) {
			valid = append(valid, user)
		} else {
			results[i].ErrorCode = int32(common.ErrorCode_BAD_REQUEST)
		}
	}
	// One read tells which users have no account, instead of a lookup per user.
	missing, lookupErr := s.missingUsers(ctx, valid)
	sem := make(chan struct{}, pushConcurrency)
	var wg sync.WaitGroup
	for i, user := range req.Users {
		switch {
		case results[i].ErrorCode != 0:
			continue
		case lookupErr != nil:
			results[i].ErrorCode = int32(Code(lookupErr))
			continue
		case missing[user]:
			results[i].ErrorCode = int32(common.ErrorCode_NOT_FOUND)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(r *logicgen.PushStatus, body []byte) {
			defer func() { <-sem; wg.Done() }()
			s.pushOne(ctx, r, from, ct, body, req)
		}(results[i], bodyFor(req, i))
	}
	wg.Wait()
	return &logicgen.PushResponse{Results: results}, nil
}

// checkPushBodies accepts either one shared body or, in bodies, exactly one per user; each
// 1..MaxBodyBytes.
func checkPushBodies(req *logicgen.PushRequest) error {
	if len(req.Bodies) == 0 {
		if len(req.Body) == 0 || len(req.Body) > MaxBodyBytes {
			return imError(common.ErrorCode_BAD_REQUEST, "push: body must be 1..%d bytes", MaxBodyBytes)
		}
		return nil
	}
	if len(req.Body) > 0 {
		return imError(common.ErrorCode_BAD_REQUEST, "push: body and bodies are exclusive")
	}
	if len(req.Bodies) != len(req.Users) {
		return imError(common.ErrorCode_BAD_REQUEST, "push: %d bodies for %d users, want one per user", len(req.Bodies), len(req.Users))
	}
	for i, b := range req.Bodies {
		if len(b) == 0 || len(b) > MaxBodyBytes {
			return imError(common.ErrorCode_BAD_REQUEST, "push: bodies[%d] must be 1..%d bytes", i, MaxBodyBytes)
		}
	}
	return nil
}

// bodyFor returns the body of users[i] in a request checkPushBodies accepted.
func bodyFor(req *logicgen.PushRequest, i int) []byte {
	if len(req.Bodies) > 0 {
		return req.Bodies[i]
	}
	return req.Body
}

// missingUsers returns which of ids (valid ids) have no account, asking the store about
// those the known-users cache does not hold, in one read.
func (s *Service) missingUsers(ctx context.Context, ids []string) (map[string]bool, error) {
	var ask []string
	for _, id := range ids {
		if !s.users.has(id) {
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return nil, nil
	}
	gone, err := s.store.MissingUsers(ctx, ask)
	if err != nil {
		return nil, s.internal(ctx, "look up users", err, "users", len(ask))
	}
	missing := make(map[string]bool, len(gone))
	for _, id := range gone {
		missing[id] = true
	}
	for _, id := range ask {
		if !missing[id] {
			s.users.add(id)
		}
	}
	return missing, nil
}

// pushOne stores and pushes one user's message; the user is known to exist.
func (s *Service) pushOne(ctx context.Context, r *logicgen.PushStatus, from, ct string, body []byte, req *logicgen.PushRequest) {
	var dedup string
	if req.DedupKey != "" {
		dedup = req.DedupKey + "/" + r.UserId
	}
	a, err := s.store.Append(ctx, store.NewMessage{
		ConvID: "s:" + r.UserId, From: from, To: r.UserId, Recipients: []string{r.UserId},
		ClientMsgID: dedup, Kind: req.Kind, ContentType: ct, Body: body, SentAt: s.now(),
	})
	if err != nil {
		r.ErrorCode = int32(Code(s.internal(ctx, "push", err, "user", r.UserId)))
		return
	}
	// A duplicate carries the first message's id and sequences: the store returns it as stored.
	r.MsgId, r.ConvSeq, r.Duplicate = a.Message.ID, a.Message.ConvSeq, a.Duplicate
	if len(a.Inbox) > 0 {
		r.Seq = a.Inbox[0].Seq
	}
	if a.Duplicate {
		return // delivered (or synced) the first time; at most once per key
	}
	// Waiting for the push keeps the result honest (online_devices) and paces a campaign
	// to what the gateways actually take.
	done := make(chan int, 1)
	if err := s.push.enqueue(ctx, pushJob{user: r.UserId, msg: toWire(a.Message, r.Seq), done: done}); err != nil {
		s.log.WarnContext(ctx, "push not queued; user will sync", "user", r.UserId, "err", err)
		return
	}
	select {
	case n := <-done:
		r.OnlineDevices = int32(n)
	case <-ctx.Done():
	}
}
