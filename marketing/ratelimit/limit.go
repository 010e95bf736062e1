package ratelimit

import (
	"fmt"
	"time"
)

// Class groups the actions that share one budget per merchant.
type Class string

// The action classes of the merchant edge.
const (
	// ClassRead: listing stats, leads, applicants, credit balance.
	ClassRead Class = "read"
	// ClassRefresh: refreshing a listing or a job post (free, but each refresh
	// reorders the third party's search results).
	ClassRefresh Class = "refresh"
	// ClassPromote: promoting a listing or a job post for N days (paid).
	ClassPromote Class = "promote"
	// ClassPurchase: buying a credit package (paid).
	ClassPurchase Class = "purchase"
	// ClassLogin: login attempts on one account (keyed by a digest of its user id).
	ClassLogin Class = "login"
	// ClassLoginAddr: login attempts from one client address, whatever the account.
	ClassLoginAddr Class = "login-addr"
)

// Limit lets Burst requests through at once and then Rate per Period, the
// meaning of redis_rate.Limit.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

func (l Limit) String() string {
	return fmt.Sprintf("%d per %s, burst %d", l.Rate, l.Period, l.Burst)
}

// interval is the time that earns back one request.
func (l Limit) interval() time.Duration { return l.Period / time.Duration(l.Rate) }

// Validate reports a limit GCRA cannot apply.
func (l Limit) Validate() error {
	switch {
	case l.Rate <= 0:
		return fmt.Errorf("rate %d: %w", l.Rate, ErrInvalidLimit)
	case l.Burst <= 0:
		return fmt.Errorf("burst %d: %w", l.Burst, ErrInvalidLimit)
	case l.Period <= 0:
		return fmt.Errorf("period %s: %w", l.Period, ErrInvalidLimit)
	case l.interval() < time.Microsecond:
		// Redis's clock has microsecond resolution.
		return fmt.Errorf("%d per %s is over one per microsecond: %w", l.Rate, l.Period, ErrInvalidLimit)
	}
	return nil
}

// ValidateLimits checks every limit of a configuration, so a bad one fails
// at start rather than on the first request of that class.
func ValidateLimits(limits map[Class]Limit) error {
	if len(limits) == 0 {
		return fmt.Errorf("no limits: %w", ErrInvalidLimit)
	}
	for c, l := range limits {
		if err := checkClass(c); err != nil {
			return err
		}
		if err := l.Validate(); err != nil {
			return fmt.Errorf("class %q: %w", c, err)
		}
	}
	return nil
}

// DefaultLimits is the policy the edge applies unless configured otherwise.
//
//   - read: 120 per minute, burst 30. Opening the app's dashboard reads stats,
//     leads and the balance of a few listings at once; a script polling every
//     listing is slowed to two reads a second.
//   - refresh: 10 per minute, burst 5. A refresh moves a listing up the
//     third party's results; more than one every few seconds is abuse.
//   - promote: 20 per hour, burst 5. Paid in credits; the limit catches a
//     runaway client before it spends a merchant's balance.
//   - purchase: 10 per hour, burst 3. Buying credits charges real money.
//   - login: 5 per minute, burst 10, per account. A person who mistypes a few times
//     is never refused; a password guesser gets five guesses a minute.
//   - login-addr: 30 per minute, burst 30, per client address: one address trying
//     many accounts (an office behind one NAT logs in far less often).
func DefaultLimits() map[Class]Limit {
	return map[Class]Limit{
		ClassRead:      {Rate: 120, Burst: 30, Period: time.Minute},
		ClassRefresh:   {Rate: 10, Burst: 5, Period: time.Minute},
		ClassPromote:   {Rate: 20, Burst: 5, Period: time.Hour},
		ClassPurchase:  {Rate: 10, Burst: 3, Period: time.Hour},
		ClassLogin:     {Rate: 5, Burst: 10, Period: time.Minute},
		ClassLoginAddr: {Rate: 30, Burst: 30, Period: time.Minute},
	}
}

// divide returns the per-instance share of l used while Redis is down.
func (l Limit) divide(n int) Limit {
	if n <= 1 {
		return l
	}
	return Limit{Rate: max(1, l.Rate/n), Burst: max(1, l.Burst/n), Period: l.Period}
}
