package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/tracing"
)

// Metrics of campaign delivery. A nil *Metrics records nothing.
//
//   - bangbang_campaign_recipients_total{outcome}: recipients handled, by outcome (sent,
//     failed, skipped), counted when their batch is recorded.
//   - bangbang_campaign_batches_total{result}: batches (ok, error); an error is retried.
//   - bangbang_campaign_batch_seconds: one batch from render to recorded, pacing included.
//   - bangbang_campaign_send_rate{campaign}: messages/s achieved over the last 5 s by each
//     campaign this process is sending (the series goes when it stops).
//   - bangbang_campaigns{state}: campaigns in each state, read from the store at scrape.
type Metrics struct {
	recipientsTotal *prometheus.CounterVec
	batches         *prometheus.CounterVec
	batchSeconds    prometheus.Histogram
	rate            *prometheus.GaugeVec
}

// NewMetrics registers the metrics with reg; st, when set, also serves the campaigns by
// state gauge. A nil reg returns nil.
func NewMetrics(reg prometheus.Registerer, st *Store) (*Metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &Metrics{
		recipientsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bangbang_campaign_recipients_total",
			Help: "Campaign recipients handled, by outcome (sent, failed, skipped)."}, []string{"outcome"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bangbang_campaign_batches_total",
			Help: "Campaign batches attempted, by result (ok, error)."}, []string{"result"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bangbang_campaign_batch_seconds",
			Help: "Time of one campaign batch: render, pace, push through logic, record.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		rate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bangbang_campaign_send_rate",
			Help: "Messages per second achieved over the last 5 s, per campaign being sent by this process."}, []string{"campaign"}),
	}
	var err error
	if m.recipientsTotal, err = tracing.Register(reg, m.recipientsTotal); err != nil {
		return nil, fmt.Errorf("campaign metrics: %w", err)
	}
	if m.batches, err = tracing.Register(reg, m.batches); err != nil {
		return nil, fmt.Errorf("campaign metrics: %w", err)
	}
	if m.batchSeconds, err = tracing.Register(reg, m.batchSeconds); err != nil {
		return nil, fmt.Errorf("campaign metrics: %w", err)
	}
	if m.rate, err = tracing.Register(reg, m.rate); err != nil {
		return nil, fmt.Errorf("campaign metrics: %w", err)
	}
	if st != nil {
		if _, err := tracing.Register[prometheus.Collector](reg, stateCollector{st}); err != nil {
			return nil, fmt.Errorf("campaign metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) attempt(result string) {
	if m != nil {
		m.batches.WithLabelValues(result).Inc()
	}
}

// batchDone records a batch of d, made under ctx (its span's), and its result.
func (m *Metrics) batchDone(ctx context.Context, d time.Duration, err error) {
	if m == nil {
		return
	}
	tracing.Observe(ctx, m.batchSeconds, d.Seconds())
	if err == nil {
		m.batches.WithLabelValues("ok").Inc()
	}
}

func (m *Metrics) recipients(id string, sent, failed, skipped int, rate float64) {
	if m == nil {
		return
	}
	m.recipientsTotal.WithLabelValues("sent").Add(float64(sent))
	m.recipientsTotal.WithLabelValues("failed").Add(float64(failed))
	m.recipientsTotal.WithLabelValues("skipped").Add(float64(skipped))
	m.rate.WithLabelValues(id).Set(rate)
}

func (m *Metrics) forget(id string) {
	if m != nil {
		m.rate.DeleteLabelValues(id)
	}
}

var campaignsDesc = prometheus.NewDesc("bangbang_campaigns", "Campaigns in each state.", []string{"state"}, nil)

// stateCollector counts campaigns by state at scrape time.
type stateCollector struct{ st *Store }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- campaignsDesc }

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.st.countByState(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(campaignsDesc, err)
		return
	}
	for _, s := range []State{StateDraft, StateScheduled, StateRunning, StatePaused, StateFinished, StateCancelled} {
		ch <- prometheus.MustNewConstMetric(campaignsDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}

// countByState counts campaigns per state.
func (s *Store) countByState(ctx context.Context) (map[State]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state, count(*) FROM campaigns GROUP BY state`)
	if err != nil {
		return nil, s.wrap("count campaigns", err)
	}
	defer rows.Close()
	out := map[State]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, s.wrap("count campaigns", err)
		}
		out[State(st)] = n
	}
	return out, s.wrap("count campaigns", rows.Err())
}
