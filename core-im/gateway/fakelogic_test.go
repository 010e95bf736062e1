package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// fakeLogic is an in-memory LogicService recording what the gateway asks. The embedded
// nil interface makes any method the gateway must not call panic.
type fakeLogic struct {
	logicgen.LogicService

	mu          sync.Mutex
	changed     chan struct{} // signalled after every call, for waiters
	connects    []*logicgen.ConnectRequest
	disconnects []*logicgen.DisconnectRequest
	renews      []*logicgen.RenewRequest
	sends       []*logicgen.SendRequest
	syncs       []*logicgen.SyncRequest
	acks        []*logicgen.AckRequest
	reads       []*logicgen.ReadRequest

	lost       map[string]bool // conn ids Renew reports lost
	renewErr   error           // Renew fails with it while set
	renewedAt  []time.Time     // when each Renew came
	sendErr    error
	sendPanic  bool
	sendGate   chan struct{} // when set, Send and SendBatch wait for it to close
	sendCalls  []int         // SENDs carried by each Send (1) and SendBatch call
	connectErr error
	onConnect  func(*logicgen.ConnectRequest) // runs inside Connect, as logic's Kick would
	syncResp   *logicgen.SyncResponse
}

func newFakeLogic() *fakeLogic {
	return &fakeLogic{changed: make(chan struct{}, 1), lost: map[string]bool{}}
}

func (f *fakeLogic) record(fn func()) {
	f.mu.Lock()
	fn()
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *fakeLogic) Connect(_ context.Context, req *logicgen.ConnectRequest) (*logicgen.ConnectResponse, error) {
	f.mu.Lock()
	hook, err := f.onConnect, f.connectErr
	f.mu.Unlock()
	if hook != nil {
		hook(req)
	}
	f.record(func() { f.connects = append(f.connects, req) })
	if err != nil {
		return nil, err
	}
	return &logicgen.ConnectResponse{MaxSeq: 42, AckedSeq: 40, HeartbeatIntervalMs: 0}, nil
}

func (f *fakeLogic) Disconnect(_ context.Context, req *logicgen.DisconnectRequest) (*logicgen.DisconnectResponse, error) {
	f.record(func() { f.disconnects = append(f.disconnects, req) })
	return &logicgen.DisconnectResponse{}, nil
}

func (f *fakeLogic) Renew(_ context.Context, req *logicgen.RenewRequest) (*logicgen.RenewResponse, error) {
	resp := &logicgen.RenewResponse{}
	var err error
	f.record(func() {
		f.renewedAt = append(f.renewedAt, time.Now())
		if err = f.renewErr; err != nil {
			return
		}
		f.renews = append(f.renews, req)
		for _, r := range req.Routes {
			if f.lost[r.ConnId] {
				resp.Lost = append(resp.Lost, r)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// Send answers a send to "nobody" with NOT_FOUND, as SendBatch does.
func (f *fakeLogic) Send(_ context.Context, req *logicgen.SendRequest) (*logicgen.SendResponse, error) {
	var err error
	var panics bool
	var gate chan struct{}
	f.record(func() {
		f.sends = append(f.sends, req)
		f.sendCalls = append(f.sendCalls, 1)
		err, panics, gate = f.sendErr, f.sendPanic, f.sendGate
	})
	if gate != nil {
		<-gate
	}
	if panics {
		panic("logic fault")
	}
	if err != nil {
		return nil, err
	}
	if req.ToUser == "nobody" {
		return nil, &common.IMError{Code: int32(common.ErrorCode_NOT_FOUND), Message: "no user"}
	}
	return fakeSendResponse(req), nil
}

func fakeSendResponse(req *logicgen.SendRequest) *logicgen.SendResponse {
	return &logicgen.SendResponse{MsgId: "m-" + req.ClientMsgId, ConvId: "p:" + req.UserId + "|" + req.ToUser, ConvSeq: 7, Seq: 9, SentAtMs: 1000}
}

// SendBatch answers each send as Send does (a send to "nobody" is NOT_FOUND), each alone.
func (f *fakeLogic) SendBatch(_ context.Context, req *logicgen.SendBatchRequest) (*logicgen.SendBatchResponse, error) {
	var err error
	var gate chan struct{}
	f.record(func() {
		f.sends = append(f.sends, req.Sends...)
		f.sendCalls = append(f.sendCalls, len(req.Sends))
		err, gate = f.sendErr, f.sendGate
	})
	if gate != nil {
		<-gate
	}
	if err != nil {
		return nil, err
	}
	resp := &logicgen.SendBatchResponse{}
	for _, s := range req.Sends {
		if s.ToUser == "nobody" {
			resp.Results = append(resp.Results, &logicgen.SendOutcome{Err: &common.IMError{Code: int32(common.ErrorCode_NOT_FOUND), Message: "no user"}})
			continue
		}
		resp.Results = append(resp.Results, &logicgen.SendOutcome{Ok: fakeSendResponse(s)})
	}
	return resp, nil
}

func (f *fakeLogic) Sync(_ context.Context, req *logicgen.SyncRequest) (*logicgen.SyncResponse, error) {
	var resp *logicgen.SyncResponse
	f.record(func() {
		f.syncs = append(f.syncs, req)
		resp = f.syncResp
	})
	if resp == nil {
		resp = &logicgen.SyncResponse{}
	}
	return resp, nil
}

func (f *fakeLogic) Ack(_ context.Context, req *logicgen.AckRequest) (*logicgen.AckResponse, error) {
	f.record(func() { f.acks = append(f.acks, req) })
	return &logicgen.AckResponse{AckedSeq: req.Seq}, nil
}

func (f *fakeLogic) Read(_ context.Context, req *logicgen.ReadRequest) (*logicgen.ReadResponse, error) {
	f.record(func() { f.reads = append(f.reads, req) })
	if req.ConvSeq < 0 {
		return nil, &common.IMError{Code: int32(common.ErrorCode_BAD_REQUEST), Message: "conv_seq must not be negative"}
	}
	return &logicgen.ReadResponse{ReadSeq: req.ConvSeq + 1}, nil
}

// disconnected returns the conn ids Disconnect was called for.
func (f *fakeLogic) disconnected() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, d := range f.disconnects {
		ids = append(ids, d.GetRoute().GetConnId())
	}
	return ids
}

func (f *fakeLogic) set(fn func(f *fakeLogic)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

type gatewayConnect = logicgen.ConnectRequest
