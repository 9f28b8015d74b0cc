package httpapi

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/countycredit/creditledger/indexer"
)

// Metrics are the index's Prometheus metrics (see the package comment). The
// follower reports each applied block with ObserveApply (wire it to
// indexer.Options.OnApply) and the peer's height with SetPeerHeight; the
// Server records lookups. Safe for concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	peerHeight atomic.Uint64

	blocks  prometheus.Counter
	txs     *prometheus.CounterVec
	writes  prometheus.Counter
	apply   prometheus.Histogram
	lookup  *prometheus.HistogramVec
	request *prometheus.CounterVec
}

// Buckets of the latency histograms, in seconds: lookups from 10 µs to
// about 0.6 s, Apply from 100 µs to about 6 s.
var (
	LookupBuckets = prometheus.ExponentialBuckets(10e-6, 2.5, 13)
	ApplyBuckets  = prometheus.ExponentialBuckets(100e-6, 2.5, 13)
)

// NewMetrics makes the metrics of an index, height being read from it at
// each scrape (height is usually (*indexer.DB).Height).
func NewMetrics(height func() uint64) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.blocks = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "creditindex_blocks_applied_total", Help: "Blocks applied to the index by this process.",
	})
	m.txs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "creditindex_transactions_applied_total", Help: "Transactions in the blocks applied by this process, by validity.",
	}, []string{"validity"})
	m.writes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "creditindex_writes_applied_total", Help: "Writes of the mirrored namespace applied by this process.",
	})
	m.apply = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "creditindex_apply_seconds", Help: "Time to apply one block: parse, build the batch, synced commit.",
		Buckets: ApplyBuckets,
	})
	m.lookup = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "creditindex_lookup_seconds", Help: "Time spent in the index answering one request, by lookup.",
		Buckets: LookupBuckets,
	}, []string{"lookup"})
	m.request = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "creditindex_http_requests_total", Help: "HTTP requests, by route and status code.",
	}, []string{"route", "code"})
	m.reg.MustRegister(m.blocks, m.txs, m.writes, m.apply, m.lookup, m.request,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "creditindex_height", Help: "Blocks applied: the number of the next block the index expects.",
		}, func() float64 { return float64(height()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "creditindex_peer_height", Help: "The peer's ledger height as last seen; 0 while unknown.",
		}, func() float64 { return float64(m.peerHeight.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "creditindex_lag_blocks", Help: "Blocks the index is behind the peer; 0 while the peer height is unknown.",
		}, func() float64 { return float64(Lag(m.peerHeight.Load(), height())) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, v := range []string{"valid", "invalid"} {
		m.txs.WithLabelValues(v)
	}
	return m
}

// Lag is how many blocks an index at height is behind a peer at
// peerHeight: 0 when the peer height is unknown (0) or not ahead.
func Lag(peerHeight, height uint64) uint64 {
	if peerHeight <= height {
		return 0
	}
	return peerHeight - height
}

// ObserveApply records one applied block; its signature is that of
// indexer.Options.OnApply.
func (m *Metrics) ObserveApply(r indexer.ApplyResult, took time.Duration) {
	m.blocks.Inc()
	m.txs.WithLabelValues("valid").Add(float64(r.Valid))
	m.txs.WithLabelValues("invalid").Add(float64(r.Invalid))
	m.writes.Add(float64(r.Writes))
	m.apply.Observe(took.Seconds())
}

// SetPeerHeight records the peer's ledger height.
func (m *Metrics) SetPeerHeight(h uint64) { m.peerHeight.Store(h) }

// PeerHeight returns the peer height last recorded (0: unknown).
func (m *Metrics) PeerHeight() uint64 { return m.peerHeight.Load() }

func (m *Metrics) observeLookup(name string, d time.Duration) {
	m.lookup.WithLabelValues(name).Observe(d.Seconds())
}

func (m *Metrics) countRequest(route string, code int) {
	m.request.WithLabelValues(route, strconv.Itoa(code)).Inc()
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the metrics' registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
