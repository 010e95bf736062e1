package edge

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"slices"
	"sync/atomic"
	"testing"
)

func loginIM(t *testing.T, base, user string) imAddrs {
	t.Helper()
	code, _, body := post(t, base+"/v1/login", `{"user_id":"`+user+`","password":"demo"}`)
	if code != 200 {
		t.Fatalf("login %s: %d %s", user, code, body)
	}
	var lr loginResponse
	if err := json.Unmarshal(body, &lr); err != nil {
		t.Fatal(err)
	}
	return lr.IM
}

// With a gateway list, /v1/login names every gateway, starting at one picked by the user
// id, the first also as tcp and ws; while the list cannot be had it names the configured
// address alone.
func TestLoginNamesEveryGateway(t *testing.T) {
	nodes := []IMNode{{TCP: "10.0.0.1:8800", WS: "ws://10.0.0.1:8801/ws"}, {TCP: "10.0.0.2:8800"}, {TCP: "10.0.0.3:8800", WS: "ws://10.0.0.3:8801/ws"}}
	var down atomic.Bool
	list := func(context.Context) ([]IMNode, error) {
		if down.Load() {
			return nil, errors.New("etcd: context deadline exceeded")
		}
		return nodes, nil
	}
	s, _ := startEdgeWith(t, Deps{Logic: realLogic(t), IMNodes: list})
	base := "http://" + s.Addr().String()

	im := loginIM(t, base, "m1001")
	h := fnv.New32a()
	h.Write([]byte("m1001"))
	k := int(h.Sum32() % 3)
	want := append(slices.Clone(nodes[k:]), nodes[:k]...)
	if !slices.Equal(im.Nodes, want) || im.TCP != want[0].TCP || im.WS != want[0].WS {
		t.Fatalf("login names %+v, want nodes %+v with the first as tcp and ws", im, want)
	}

	down.Store(true)
	if im := loginIM(t, base, "m1001"); im.TCP != "127.0.0.1:8800" || im.WS != "ws://127.0.0.1:8801/ws" || len(im.Nodes) != 0 {
		t.Fatalf("without a list, login names %+v, want the configured addresses alone", im)
	}
}
