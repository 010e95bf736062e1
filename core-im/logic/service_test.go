package logic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

func wantCode(t *testing.T, err error, code common.ErrorCode) {
	t.Helper()
	var ie *common.IMError
	if !errors.As(err, &ie) || common.ErrorCode(ie.Code) != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

func TestSendStoresSequencesAndPushesEveryOtherDevice(t *testing.T) {
	f := newFixture(t)
	f.connect(t, "alice", "phone", "a-phone")
	f.connect(t, "alice", "laptop", "a-laptop")
	f.connect(t, "bob", "phone", "b-phone")

	for i := 1; i <= 3; i++ {
		resp := f.send(t, "alice", "phone", "bob", fmt.Sprint("m", i), fmt.Sprint("hello ", i))
		if resp.ConvId != "p:alice|bob" || resp.ConvSeq != int64(i) || resp.Seq != int64(i) || resp.Duplicate || resp.MsgId == "" {
			t.Fatalf("ack %d: %+v", i, resp)
		}
	}
	for _, conn := range []string{"b-phone", "a-laptop"} {
		ps := f.gw.pushes(t, conn, 3)
		for i, p := range ps {
			m := p.Messages[0]
			if string(m.Body) != fmt.Sprint("hello ", i+1) || m.ConvSeq != int64(i+1) || m.Seq != int64(i+1) || m.FromUser != "alice" {
				t.Fatalf("%s push %d: %+v", conn, i, m)
			}
		}
	}
	if n := f.gw.count("a-phone"); n != 0 {
		t.Fatalf("the sending device got %d pushes of its own messages", n)
	}
}

func TestSendDuplicateStoredOnce(t *testing.T) {
	f := newFixture(t)
	first := f.send(t, "alice", "phone", "bob", "same", "once")
	again := f.send(t, "alice", "phone", "bob", "same", "once")
	if !again.Duplicate || again.MsgId != first.MsgId || again.ConvSeq != first.ConvSeq {
		t.Fatalf("first %+v again %+v", first, again)
	}
	resp, err := f.svc.Sync(context.Background(), &logicgen.SyncRequest{UserId: "bob", AfterSeq: 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Messages) != 1 || resp.MaxSeq != 1 {
		t.Fatalf("bob's inbox: %d messages, max seq %d; want 1, 1", len(resp.Messages), resp.MaxSeq)
	}
}

func TestSendRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	base := logicgen.SendRequest{UserId: "alice", DeviceId: "phone", ClientMsgId: "x", ToUser: "bob", Body: []byte("hi")}
	for _, tc := range []struct {
		name string
		edit func(*logicgen.SendRequest)
		code common.ErrorCode
	}{
		{"unknown recipient", func(r *logicgen.SendRequest) { r.ToUser = "nobody" }, common.ErrorCode_NOT_FOUND},
		{"to self", func(r *logicgen.SendRequest) { r.ToUser = "alice" }, common.ErrorCode_BAD_REQUEST},
		{"no client id", func(r *logicgen.SendRequest) { r.ClientMsgId = "" }, common.ErrorCode_BAD_REQUEST},
		{"long client id", func(r *logicgen.SendRequest) { r.ClientMsgId = strings.Repeat("x", 65) }, common.ErrorCode_BAD_REQUEST},
		{"empty body", func(r *logicgen.SendRequest) { r.Body = nil }, common.ErrorCode_BAD_REQUEST},
		{"huge body", func(r *logicgen.SendRequest) { r.Body = make([]byte, MaxBodyBytes+1) }, common.ErrorCode_BAD_REQUEST},
		{"system kind from a client", func(r *logicgen.SendRequest) { r.Kind = int32(common.MessageKind_SYSTEM) }, common.ErrorCode_FORBIDDEN},
		{"long content type", func(r *logicgen.SendRequest) { r.ContentType = strings.Repeat("t", 129) }, common.ErrorCode_BAD_REQUEST},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := base
			tc.edit(&req)
			_, err := f.svc.Send(ctx, &req)
			wantCode(t, err, tc.code)
		})
	}
	max, err := f.store.MaxSeq(ctx, "alice")
	if err != nil || max != 0 {
		t.Fatalf("refused sends stored something: max seq %d, %v", max, err)
	}
}

func TestConnectKicksTheSameDeviceElsewhere(t *testing.T) {
	f := newFixture(t)
	f.connect(t, "bob", "phone", "old")
	f.connect(t, "bob", "tablet", "tab")
	f.connect(t, "bob", "phone", "new")
	f.gw.mu.Lock()
	kicked := append([]string(nil), f.gw.kicked...)
	f.gw.mu.Unlock()
	if len(kicked) != 1 || kicked[0] != "old" {
		t.Fatalf("kicked %v, want [old]", kicked)
	}
	// A late disconnect of the old connection must not take the new one offline.
	if _, err := f.svc.Disconnect(context.Background(), &logicgen.DisconnectRequest{Node: "n1",
		Route: &logicgen.RouteRef{UserId: "bob", DeviceId: "phone", ConnId: "old"}}); err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.Presence(context.Background(), &logicgen.PresenceRequest{Users: []string{"bob"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Online["bob"]) != 2 {
		t.Fatalf("bob online on %d devices, want 2: %+v", len(p.Online["bob"]), p.Online["bob"])
	}
}

func TestConnectReportsSyncPoint(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.send(t, "alice", "phone", "bob", "1", "a")
	f.send(t, "alice", "phone", "bob", "2", "b")
	if _, err := f.svc.Ack(ctx, &logicgen.AckRequest{UserId: "bob", DeviceId: "phone", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	resp := f.connect(t, "bob", "phone", "c1")
	if resp.MaxSeq != 2 || resp.AckedSeq != 1 || resp.HeartbeatIntervalMs != 30000 {
		t.Fatalf("connect: %+v", resp)
	}
	// Acks never go back.
	ack, err := f.svc.Ack(ctx, &logicgen.AckRequest{UserId: "bob", DeviceId: "phone", Seq: 0})
	if err != nil || ack.AckedSeq != 1 {
		t.Fatalf("lower ack: %+v, %v", ack, err)
	}
}

func TestSyncPages(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 7; i++ {
		f.send(t, "alice", "phone", "bob", fmt.Sprint(i), fmt.Sprint(i))
	}
	var seqs []int64
	after := int64(0)
	for {
		resp, err := f.svc.Sync(context.Background(), &logicgen.SyncRequest{UserId: "bob", AfterSeq: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range resp.Messages {
			seqs = append(seqs, m.Seq)
			after = m.Seq
		}
		if !resp.HasMore {
			break
		}
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7]" {
		t.Fatalf("synced seqs %v", seqs)
	}
	_, err := f.svc.Sync(context.Background(), &logicgen.SyncRequest{UserId: "bob", Limit: MaxSyncLimit + 1})
	wantCode(t, err, common.ErrorCode_BAD_REQUEST)
}

func TestReadReceipts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.connect(t, "alice", "phone", "a")
	sent := f.send(t, "alice", "laptop", "bob", "1", "hi")
	resp, err := f.svc.Read(ctx, &logicgen.ReadRequest{UserId: "bob", ConvId: sent.ConvId, ConvSeq: 1})
	if err != nil || resp.ReadSeq != 1 {
		t.Fatalf("read: %+v, %v", resp, err)
	}
	_, err = f.svc.Read(ctx, &logicgen.ReadRequest{UserId: "carol", ConvId: sent.ConvId, ConvSeq: 1})
	wantCode(t, err, common.ErrorCode_FORBIDDEN)
	_, err = f.svc.Read(ctx, &logicgen.ReadRequest{UserId: "bob", ConvId: "garbage", ConvSeq: 1})
	wantCode(t, err, common.ErrorCode_BAD_REQUEST)
	// alice's phone got the message push and then bob's receipt.
	f.gw.pushes(t, "a", 1)
	waitFrames(t, f.gw, "a", 2)
	f.gw.mu.Lock()
	last := f.gw.frames["a"][1]
	f.gw.mu.Unlock()
	if last.op != 13 { // READ_RECEIPT
		t.Fatalf("second frame to alice is op %d, want READ_RECEIPT", last.op)
	}
}

func waitFrames(t *testing.T, r *recorder, conn string, n int) {
	t.Helper()
	for r.count(conn) < n {
		<-r.changed
	}
}

func TestPushToUsersOncePerKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.connect(t, "bob", "phone", "b1")
	f.connect(t, "bob", "tablet", "b2")
	req := &logicgen.PushRequest{From: "campaign:7", Users: []string{"alice", "bob", "nobody", ""},
		Kind: int32(common.MessageKind_MARKETING), Body: []byte("spring offer"), DedupKey: "campaign-7"}
	resp, err := f.svc.PushToUsers(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	byUser := map[string]*logicgen.PushStatus{}
	for _, r := range resp.Results {
		byUser[r.UserId] = r
	}
	if r := byUser["bob"]; r.ErrorCode != 0 || r.Duplicate || r.OnlineDevices != 2 || r.Seq != 1 {
		t.Fatalf("bob: %+v", r)
	}
	if r := byUser["alice"]; r.ErrorCode != 0 || r.OnlineDevices != 0 {
		t.Fatalf("alice: %+v", r)
	}
	if byUser["nobody"].ErrorCode != int32(common.ErrorCode_NOT_FOUND) || byUser[""].ErrorCode != int32(common.ErrorCode_BAD_REQUEST) {
		t.Fatalf("bad users: %+v %+v", byUser["nobody"], byUser[""])
	}
	// The same campaign again (a restart) repeats no one.
	again, err := f.svc.PushToUsers(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again.Results {
		if r.ErrorCode == 0 && (!r.Duplicate || r.MsgId != byUser[r.UserId].MsgId) {
			t.Fatalf("second run for %s: %+v", r.UserId, r)
		}
	}
	if n := len(f.gw.pushes(t, "b1", 1)); n != 1 {
		t.Fatalf("bob's phone got %d pushes, want 1", n)
	}
	sync, err := f.svc.Sync(ctx, &logicgen.SyncRequest{UserId: "bob"})
	if err != nil || len(sync.Messages) != 1 || sync.Messages[0].ConvId != "s:bob" || sync.Messages[0].Kind != int32(common.MessageKind_MARKETING) {
		t.Fatalf("bob's inbox after two runs: %+v, %v", sync, err)
	}
	_, err = f.svc.PushToUsers(ctx, &logicgen.PushRequest{Users: []string{"bob"}, Kind: int32(common.MessageKind_CHAT), Body: []byte("x")})
	wantCode(t, err, common.ErrorCode_BAD_REQUEST)
}

func TestStaleRouteRemovedWhenNodeReportsConnGone(t *testing.T) {
	f := newFixture(t)
	f.connect(t, "bob", "phone", "gone")
	f.gw.mu.Lock()
	f.gw.missing["gone"] = true
	f.gw.mu.Unlock()
	f.send(t, "alice", "phone", "bob", "1", "hi")
	// The push runs after the ack: wait for the route to go, up to a deadline.
	deadline := time.Now().Add(5 * time.Second)
	for {
		found, err := f.routes.Lookup(context.Background(), []string{"bob"})
		if err != nil {
			t.Fatal(err)
		}
		if len(found["bob"]) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stale route kept: %+v", found["bob"])
		}
		// The route goes after the Deliver that signals: wait for a signal or re-check soon.
		select {
		case <-f.gw.changed:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	resp, err := f.svc.Authenticate(ctx, &logicgen.AuthenticateRequest{UserId: "alice", Password: "secret"})
	if err != nil || resp.UserId != "alice" || resp.Kind != "merchant" {
		t.Fatalf("authenticate: %+v, %v", resp, err)
	}
	for _, req := range []*logicgen.AuthenticateRequest{
		{UserId: "alice", Password: "wrong"},
		{UserId: "nobody", Password: "secret"},
		{UserId: "", Password: "secret"},
		{UserId: "alice", Password: strings.Repeat("p", 100)},
	} {
		_, err := f.svc.Authenticate(ctx, req)
		wantCode(t, err, common.ErrorCode_UNAUTHENTICATED)
	}
}

// A connection's pipelined sends in one SendBatch: stored in their order, refusals and a
// resend answered at their indexes, every stored message pushed.
func TestSendBatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.connect(t, "bob", "phone", "b-phone")
	first := f.send(t, "alice", "phone", "bob", "m0", "before")
	send := func(id, to, body string) *logicgen.SendRequest {
		return &logicgen.SendRequest{UserId: "alice", DeviceId: "phone", ClientMsgId: id, ToUser: to, Body: []byte(body)}
	}
	resp, err := f.svc.SendBatch(ctx, &logicgen.SendBatchRequest{Sends: []*logicgen.SendRequest{
		send("m1", "bob", "one"),
		send("m2", "nobody", "lost"),
		send("m3", "bob", "two"),
		send("m0", "bob", "before"), // a resend
		send("m4", "bob", ""),
		send("m5", "bob", "three"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 6 {
		t.Fatalf("%d results for 6 sends", len(resp.Results))
	}
	wantErr := map[int]common.ErrorCode{1: common.ErrorCode_NOT_FOUND, 4: common.ErrorCode_BAD_REQUEST}
	wantSeq := map[int]int64{0: 2, 2: 3, 3: 1, 5: 4}
	for i, r := range resp.Results {
		if code, bad := wantErr[i]; bad {
			if r.Err == nil || common.ErrorCode(r.Err.Code) != code || r.Ok != nil {
				t.Errorf("send %d = %+v, want %s", i, r, code)
			}
			continue
		}
		if r.Err != nil || r.Ok == nil || r.Ok.ConvSeq != wantSeq[i] || r.Ok.Duplicate != (i == 3) {
			t.Errorf("send %d = %+v, want conv seq %d", i, r, wantSeq[i])
		}
	}
	if resp.Results[3].Ok.MsgId != first.MsgId {
		t.Errorf("the resend got message %s, want %s", resp.Results[3].Ok.MsgId, first.MsgId)
	}
	var bodies []string
	for _, p := range f.gw.pushes(t, "b-phone", 5) {
		bodies = append(bodies, string(p.Messages[0].Body))
	}
	// The resend is pushed again (its first push may have been lost with the ack).
	if got, want := strings.Join(bodies, ","), "before,one,two,before,three"; got != want {
		t.Errorf("bob's pushes %s, want %s", got, want)
	}
	for _, n := range []int{0, MaxSendBatch + 1} {
		_, err := f.svc.SendBatch(ctx, &logicgen.SendBatchRequest{Sends: make([]*logicgen.SendRequest, n)})
		wantCode(t, err, common.ErrorCode_BAD_REQUEST)
	}
	resp, err = f.svc.SendBatch(ctx, &logicgen.SendBatchRequest{Sends: []*logicgen.SendRequest{nil}})
	if err != nil || resp.Results[0].Err == nil || common.ErrorCode(resp.Results[0].Err.Code) != common.ErrorCode_BAD_REQUEST {
		t.Errorf("a nil send = %+v, %v; want it refused alone", resp, err)
	}
}
