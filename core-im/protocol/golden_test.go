package protocol

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// The frames docs/protocol.md dumps byte by byte. Run with BANGBANG_UPDATE_GOLDEN=1 to
// rewrite testdata/*.hex after a deliberate change, then paste the new dumps into the doc.
func goldenFrames() []struct {
	file  string
	op    Op
	body  Body
	empty Body
	frame []byte
} {
	auth := &frame.AuthRequest{Token: "tok.m1001.sig", DeviceId: "d-7f3a", Platform: "ios", ClientVersion: "1.4.0"}
	send := &frame.SendRequest{ClientMsgId: "cm-0001", ToUser: "c1001", Kind: int32(common.MessageKind_CHAT),
		ContentType: "text/plain", Body: []byte("hello")}
	return []struct {
		file  string
		op    Op
		body  Body
		empty Body
		frame []byte
	}{
		{"auth_frame.hex", OpAuth, auth, frame.NewAuthRequest(), AppendMessage(nil, OpAuth, 1, nil, auth)},
		{"send_frame.hex", OpSend, send, frame.NewSendRequest(), AppendMessage(nil, OpSend, 2, &testTrace, send)},
	}
}

func TestGoldenFramesInDoc(t *testing.T) {
	doc, docErr := os.ReadFile(filepath.Join("..", "..", "docs", "protocol.md"))
	for _, g := range goldenFrames() {
		t.Run(g.file, func(t *testing.T) {
			dump := hex.Dump(g.frame)
			path := filepath.Join("testdata", g.file)
			if os.Getenv("BANGBANG_UPDATE_GOLDEN") == "1" {
				if err := os.WriteFile(path, []byte(dump), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden: %v", err)
			}
			if string(golden) != dump {
				t.Fatalf("%s is stale: the encoder now produces\n%s", path, dump)
			}
			// The dump must decode back to the body the doc says it shows.
			raw := undump(t, string(golden))
			f, n, err := Parse(raw, 0)
			if err != nil || n != len(raw) || f.Op != g.op {
				t.Fatalf("Parse(golden) = (op %s, %d, %v)", f.Op, n, err)
			}
			if err := DecodeBody(f.Body, g.empty); err != nil || !sameValue(g.empty, g.body) {
				t.Fatalf("golden body = %+v (%v), want %+v", g.empty, err, g.body)
			}
			if docErr != nil {
				t.Fatalf("read the protocol doc: %v", docErr)
			}
			if !strings.Contains(string(doc), dump) {
				t.Fatalf("docs/protocol.md does not embed the dump of %s verbatim:\n%s", path, dump)
			}
		})
	}
}

// undump reads hex.Dump output back into bytes: the 16 hex pairs after each offset.
func undump(t *testing.T, dump string) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(dump), "\n") {
		hexPart, _, _ := strings.Cut(line, "|")
		fields := strings.Fields(hexPart)
		if len(fields) < 2 {
			t.Fatalf("bad dump line %q", line)
		}
		b, err := hex.DecodeString(strings.Join(fields[1:], ""))
		if err != nil {
			t.Fatalf("dump line %q: %v", line, err)
		}
		out.Write(b)
	}
	return out.Bytes()
}
