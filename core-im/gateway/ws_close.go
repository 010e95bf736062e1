package gateway

import (
	"time"

	"github.com/hertz-contrib/websocket"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// WebSocket close codes (RFC 6455 7.4) the gateway sends after a session's last frame, so
// a browser's close event says why rather than 1006 (closed abnormally).
const (
	wsCloseNormal        = websocket.CloseNormalClosure     // 1000: closed with nothing to say
	wsCloseGoingAway     = websocket.CloseGoingAway         // 1001: RECONNECT (drain, route lost)
	wsCloseProtocol      = websocket.CloseProtocolError     // 1002: the client broke the frame protocol
	wsClosePolicy        = websocket.ClosePolicyViolation   // 1008: KICK, refused or missing AUTH, flood
	wsCloseTooBig        = websocket.CloseMessageTooBig     // 1009: FRAME_TOO_LARGE
	wsCloseInternal      = websocket.CloseInternalServerErr // 1011: INTERNAL
	wsCloseTryAgainLater = websocket.CloseTryAgainLater     // 1013: UNAVAILABLE (temporary)
	wsCloseGrace         = time.Second                      // how long the peer has to answer our close
	wsCloseWriteTimeout  = time.Second                      // bounds writing the close frame
)

// wsCloseFor is the close code and reason that follow last, the session's final frame
// (nil when it closed without one). The reason is the frame's code or kick reason name.
func wsCloseFor(last []byte) (int, string) {
	if last == nil {
		return wsCloseNormal, ""
	}
	f, n, err := protocol.Parse(last, len(last))
	if err != nil || n == 0 {
		return wsCloseNormal, ""
	}
	switch f.Op {
	case protocol.OpReconnect:
		return wsCloseGoingAway, "RECONNECT"
	case protocol.OpKick:
		var k frame.Kick
		if protocol.DecodeBody(f.Body, &k) != nil {
			return wsClosePolicy, "KICK"
		}
		return wsClosePolicy, "KICK " + frame.KickReason(k.Reason).String()
	case protocol.OpError:
		var e frame.Error
		if protocol.DecodeBody(f.Body, &e) != nil {
			return wsCloseProtocol, "ERROR"
		}
		code := common.ErrorCode(e.Code)
		return wsCloseForError(code), code.String()
	}
	return wsCloseNormal, ""
}

func wsCloseForError(c common.ErrorCode) int {
	switch c {
	case common.ErrorCode_FRAME_TOO_LARGE:
		return wsCloseTooBig
	case common.ErrorCode_BAD_FRAME, common.ErrorCode_UNSUPPORTED_VERSION,
		common.ErrorCode_UNKNOWN_OPERATION, common.ErrorCode_BAD_REQUEST:
		return wsCloseProtocol
	case common.ErrorCode_INTERNAL:
		return wsCloseInternal
	case common.ErrorCode_UNAVAILABLE:
		return wsCloseTryAgainLater
	default: // UNAUTHENTICATED, TOKEN_*, FORBIDDEN, RATE_LIMITED, NOT_FOUND…
		return wsClosePolicy
	}
}
