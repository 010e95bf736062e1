package store

import (
	"context"
	"maps"
	"slices"
	"time"
)

// appendReq is one queued Append call.
type appendReq struct {
	ctx  context.Context
	id   string     // message id, assigned before queueing
	msg  NewMessage // validated by prepareMessage
	done chan appendResult
	// queued is when the caller queued it, for its span's batch event.
	queued time.Time
}

type appendResult struct {
	appended Appended
	err      error
}

// dedupKey identifies a sender's retry; ok is false when the message has no
// client id and so never deduplicates.
func (r *appendReq) dedupKey() (key string, ok bool) {
	if r.msg.ClientMsgID == "" {
		return "", false
	}
	return r.msg.From + "\x00" + r.msg.ClientMsgID, true
}

// splitDuplicates returns the requests to write (the first of each key) and,
// for each of them, the later requests of the same batch carrying its key.
func splitDuplicates(reqs []*appendReq) (leaders []*appendReq, followers map[*appendReq][]*appendReq) {
	first := make(map[string]*appendReq)
	for _, r := range reqs {
		key, ok := r.dedupKey()
		if !ok {
			leaders = append(leaders, r)
			continue
		}
		if l, seen := first[key]; seen {
			if followers == nil {
				followers = make(map[*appendReq][]*appendReq)
			}
			followers[l] = append(followers[l], r)
			continue
		}
		first[key] = r
		leaders = append(leaders, r)
	}
	return leaders, followers
}

// counterPlan says by how much each counter grows in one batch. IDs are sorted
// so every writer locks counter rows in the same order.
type counterPlan struct {
	convIDs []string
	convN   []int64
	userIDs []string
	userN   []int64
}

func planCounters(reqs []*appendReq) counterPlan {
	conv := make(map[string]int64)
	user := make(map[string]int64)
	for _, r := range reqs {
		conv[r.msg.ConvID]++
		for _, u := range r.msg.Recipients {
			user[u]++
		}
	}
	var p counterPlan
	p.convIDs, p.convN = sortedCounts(conv)
	p.userIDs, p.userN = sortedCounts(user)
	return p
}

func sortedCounts(m map[string]int64) ([]string, []int64) {
	ids := slices.Sorted(maps.Keys(m))
	n := make([]int64, len(ids))
	for i, id := range ids {
		n[i] = m[id]
	}
	return ids, n
}

// assignSeqs numbers reqs in order once the counters were raised by plan:
// last holds each counter's value after the raise, so the batch owns the range
// (last-n, last]. Numbering conversations and inboxes in the same request order
// keeps a conversation's messages in ConvSeq order inside every inbox.
func assignSeqs(reqs []*appendReq, plan counterPlan, convLast, userLast map[string]int64) []Appended {
	convNext := nextSeqs(plan.convIDs, plan.convN, convLast)
	userNext := nextSeqs(plan.userIDs, plan.userN, userLast)
	out := make([]Appended, len(reqs))
	for i, r := range reqs {
		m := r.msg
		out[i].Message = Message{
			ID: r.id, ConvID: m.ConvID, ConvSeq: convNext[m.ConvID],
			From: m.From, To: m.To, ClientMsgID: m.ClientMsgID, Kind: m.Kind,
			ContentType: m.ContentType, Body: m.Body, SentAt: m.SentAt,
		}
		convNext[m.ConvID]++
		out[i].Inbox = make([]InboxEntry, len(m.Recipients))
		for j, u := range m.Recipients {
			out[i].Inbox[j] = InboxEntry{UserID: u, Seq: userNext[u]}
			userNext[u]++
		}
	}
	return out
}

func nextSeqs(ids []string, n []int64, last map[string]int64) map[string]int64 {
	next := make(map[string]int64, len(ids))
	for i, id := range ids {
		next[id] = last[id] - n[i] + 1
	}
	return next
}

// mergeResults answers reqs in order: those found stored before get the stored
// message, marked Duplicate; the others take the next of made.
func mergeResults(reqs []*appendReq, stored map[string]Appended, made []Appended) []Appended {
	out := make([]Appended, len(reqs))
	next := 0
	for i, r := range reqs {
		if key, ok := r.dedupKey(); ok {
			if a, found := stored[key]; found {
				a.Duplicate = true
				out[i] = a
				continue
			}
		}
		out[i] = made[next]
		next++
	}
	return out
}

// freshRequests drops the requests whose message was stored before.
func freshRequests(reqs []*appendReq, stored map[string]Appended) []*appendReq {
	if len(stored) == 0 {
		return reqs
	}
	fresh := make([]*appendReq, 0, len(reqs))
	for _, r := range reqs {
		if key, ok := r.dedupKey(); ok {
			if _, found := stored[key]; found {
				continue
			}
		}
		fresh = append(fresh, r)
	}
	return fresh
}

// markKind tells which mark a markReq records.
type markKind uint8

const (
	markAck  markKind = iota + 1 // a device's delivery ack: key is the device id, seq an inbox seq
	markRead                     // a read mark: key is the conversation id, seq a ConvSeq
)

func (k markKind) String() string {
	if k == markRead {
		return "mark read"
	}
	return "ack delivered"
}

// pastEnd is the refusal of a mark of this kind past what exists.
func (k markKind) pastEnd() error {
	if k == markRead {
		return errReadPastEnd
	}
	return errAckPastEnd
}

// markReq is one queued AckDelivered or MarkRead call.
type markReq struct {
	ctx  context.Context
	kind markKind
	user string
	key  string // device id (markAck) or conversation id (markRead)
	seq  int64
	done chan markResult
}

// markResult is the effective mark after the write, or the refusal (pastEnd).
type markResult struct {
	seq int64
	err error
}
