package client

import (
	"time"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// Message is an inbox message.
type Message struct {
	ID          string
	ConvID      string
	ConvSeq     int64 // gap-free per conversation, from 1
	Seq         int64 // this user's inbox sequence: gap-free, from 1
	From, To    string
	Kind        int32 // common.MessageKind
	ContentType string
	Body        []byte
	SentAt      time.Time
	ClientMsgID string
}

func messageFrom(m *common.Message) Message {
	return Message{
		ID:          m.MsgId,
		ConvID:      m.ConvId,
		ConvSeq:     m.ConvSeq,
		Seq:         m.Seq,
		From:        m.FromUser,
		To:          m.ToUser,
		Kind:        m.Kind,
		ContentType: m.ContentType,
		Body:        m.Body,
		SentAt:      time.UnixMilli(m.SentAtMs),
		ClientMsgID: m.ClientMsgId,
	}
}

// Receipt says Reader has read ConvID up to ConvSeq.
type Receipt struct {
	ConvID  string
	Reader  string
	ConvSeq int64
}

// SendResult is the server's acknowledgement of a stored message.
type SendResult struct {
	MsgID     string
	ConvID    string
	ConvSeq   int64
	Seq       int64 // the sender's own inbox sequence for this message
	SentAt    time.Time
	Duplicate bool // the client_msg_id was already stored: this is the first message again
	TraceID   string
}

// EventKind names a connection state change.
type EventKind int

const (
	EventConnected    EventKind = iota + 1 // authenticated; UserID and SessionID are set
	EventDisconnected                      // the connection ended; Err says why
	EventKicked                            // the server sent KICK; Reason and Message are set
	EventReconnecting                      // the next attempt starts after Delay
)

func (k EventKind) String() string {
	switch k {
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventKicked:
		return "kicked"
	case EventReconnecting:
		return "reconnecting"
	}
	return "unknown"
}

// Event is a connection state change, for display and metrics. Events are advisory: they are
// dropped when the channel is full.
type Event struct {
	Kind      EventKind
	Err       error
	UserID    string
	SessionID string
	Reason    frame.KickReason
	Message   string
	Delay     time.Duration
}
