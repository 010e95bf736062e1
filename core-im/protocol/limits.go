package protocol

import (
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// messageReserve is the room a message's body leaves in a frame for everything around it:
// the Message fields (msg_id, conv_id, the user ids, content_type, client_msg_id, the
// numbers: 759 bytes with every string at the 128 bytes the store allows, 36 for msg_id)
// and the PUSH or SYNC_RESP around one Message (24 bytes).
const messageReserve = 1024

// MaxMessageBody is the largest message body the server accepts (a SEND's body, a
// system or campaign message's): 63 KiB, so that a message of the largest size, with
// every other field at its largest, still fits one PUSH or SYNC_RESP of DefaultMaxBody.
const MaxMessageBody = DefaultMaxBody - messageReserve

// syncOverhead and pushOverhead are the bytes of an empty SyncResponse and Push body.
var (
	syncOverhead = (&frame.SyncResponse{}).BLength()
	pushOverhead = (&frame.Push{}).BLength()
)

// FitSync returns how many of msgs, from the first, one SyncResponse body of at most
// maxBody bytes holds (0 means DefaultMaxBody): a page by bytes as well as by count. It
// is at least 1 when msgs is not empty, so paging always progresses; a message too large
// for a frame on its own is for the caller to refuse (MessageFits).
func FitSync(msgs []*common.Message, maxBody int) int {
	return fit(msgs, maxBody, syncOverhead)
}

// FitPush is FitSync for the messages of one Push body.
func FitPush(msgs []*common.Message, maxBody int) int {
	return fit(msgs, maxBody, pushOverhead)
}

// MessageFits reports whether m alone fits a SyncResponse (the larger of the two bodies
// that carry messages) of at most maxBody bytes (0 means DefaultMaxBody).
func MessageFits(m *common.Message, maxBody int) bool {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	return syncOverhead+m.BLength() <= maxBody
}

func fit(msgs []*common.Message, maxBody, overhead int) int {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	n, size := 0, overhead
	for _, m := range msgs {
		size += m.BLength()
		if size > maxBody && n > 0 {
			break
		}
		n++
	}
	return n
}
