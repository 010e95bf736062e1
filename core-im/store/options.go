package store

import (
	"log/slog"
	"time"
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// BatchMax is the most Append requests written in one transaction; 0 means 256.
	BatchMax int
	// BatchWait is how long the committer lingers after the first queued request
	// for more to arrive before writing; 0 means no wait: commit what is queued.
	// Under load batches fill while the previous commit runs, so 0 is usually best.
	BatchWait time.Duration
	// Logger receives batch failures and fallbacks; nil means discard.
	Logger *slog.Logger
}

const defaultBatchMax = 256

// batchTimeout bounds one batch transaction so a stuck database cannot hold
// callers (and Close) forever.
const batchTimeout = 30 * time.Second

func (o Options) withDefaults() Options {
	if o.BatchMax <= 0 {
		o.BatchMax = defaultBatchMax
	}
	if o.BatchWait < 0 {
		o.BatchWait = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
