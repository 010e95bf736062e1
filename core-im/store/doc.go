// Package store is the data-access layer of the IM core. It owns everything the
// IM keeps durably: messages, per-user inboxes, per-device delivery acks,
// per-conversation read marks and user accounts, behind one interface (Store)
// with two implementations: PostgreSQL (OpenPostgres, production, shared by
// several logic processes) and an embedded SQLite file (OpenSQLite, one process).
//
// # Model
//
// Each message gets a conversation sequence (ConvSeq) and, in the inbox of every
// recipient, an inbox sequence (Seq). Both are gap-free and start at 1. A client
// resumes by syncing its inbox after the last Seq it acked. Within one inbox,
// the messages of a conversation appear in ConvSeq order: the transaction that
// assigns sequences locks the conversation counters before the inbox counters,
// always in the same sorted order, so two writers touching the same
// conversation are serialised the same way on both counters. Sequences are
// assigned by the database inside the transaction, never cached in memory,
// which is what lets several processes append to the same conversation.
//
// Delivery acks and read marks never pass what exists: the upsert that records one reads
// the inbox's (or conversation's) last sequence in the same statement and refuses a mark
// past it, so no race records more than exists; marks stored past it by an older version
// read as the last sequence and are lowered by the next mark.
//
// A sender's retry is recognised by (From, ClientMsgID): the first message is
// returned again, with its ConvSeq and inbox Seqs, marked Duplicate, and nothing
// is written.
//
// # Batch calls
//
// Campaigns work in batches of up to MaxBatch users, so two calls take a batch
// and cost one statement whatever its size: Receipts (each user's highest acked
// inbox Seq and read mark, which tell a campaign what was delivered and read)
// and PutUsersIfAbsent (a bulk account import that never overwrites an
// existing account).
//
// # Concurrency
//
// A Store is safe for concurrent use. Append, AppendBatch, AckDelivered and
// MarkRead calls are group-committed: one committer goroutine per Store, started
// by Open and stopped by Close, writes the queued requests in one transaction and
// answers each caller after the commit. On PostgreSQL that transaction is one
// round trip: every statement goes out in one pipeline run as one implicit
// transaction, the messages taken to be new and the marks written with one upsert per
// kind; a resend (a stored (From, ClientMsgID)) fails it on the unique index, and the
// batch is written again in a transaction that first reads back what is stored. An AppendBatch call's messages
// are queued together and in their order. A failing batch is retried request by
// request, so one bad request never fails the others. Close fails queued calls and
// every later call with ErrClosed; it waits for the batch being written to finish.
//
// # Imports
//
// store sits below every other IM layer. It must not import other core-im
// packages, marketing, gen, tracing or any RPC or HTTP framework: only the
// database drivers, uuid and the standard library. Whatever it needs from
// above (a logger, later a tracer) comes in through Options.
package store
