// Package campaign is how marketing staff reach merchants over IM: the merchant audience
// (attributes city, category and tags, bulk import), campaigns (an audience, a message
// rendered per merchant from Go templates, an optional button that performs a marketing
// action through the edge, a send time and a rate cap), staff keys with roles, the audit
// log, and the Worker that delivers running campaigns.
//
// What it owns: marketing's durable state, in Store (PostgreSQL through pgx's database/sql
// driver, or a SQLite file of its own, migrated with goose). Every change a person asks
// for is written with its audit entry in one transaction.
//
// Delivery: starting a campaign fixes its audience in a recipients table (when it begins
// to run), then the worker pushes it in batches through logic's PushToUsers, paced by a
// ratelimit.Pacer (redis_rate on Redis, GCRA in process), each recipient exactly once:
// logic de-duplicates by DedupKey and the recipient, and a batch's outcomes and the cursor
// are written together after logic answered, so a crash between the two sends the batch
// again without sending anyone a second message. One worker sends a campaign at a time,
// by a lease in the store. Consecutive failures (logic or the store unavailable) back off
// and, past WorkerConfig.ErrorThreshold, pause the campaign with a reason; resuming
// continues where it stopped. Delivered and read counts come from logic's Receipts.
//
// Concurrency: a Store is safe for concurrent use; a Worker owns its goroutines and Stop
// ends them. Roles are not a ladder: authors write, senders launch, admins do both and
// manage keys.
//
// It reaches IM only through logic's IDL (gen/logic): it never imports core-im.
package campaign
