package gateway

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// metrics holds the gateway's counters, written out in the Prometheus
// text exposition format (version 0.0.4) by hand.
type metrics struct {
	mu        sync.Mutex
	requests  map[[2]string]uint64 // protocol, status
	errors    map[[2]string]uint64 // protocol, code
	latency   map[string]*histogram
	expired   atomic.Uint64 // streams closed for idleness
	inFlight  atomic.Int64
	streams   func() int // open Hrana streams
	startTime time.Time
}

// latencyBuckets are the upper bounds of the latency histogram, in seconds.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{
		requests:  map[[2]string]uint64{},
		errors:    map[[2]string]uint64{},
		latency:   map[string]*histogram{},
		startTime: time.Now(),
	}
}

// request records one finished request.
func (m *metrics) request(protocol string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{protocol, strconv.Itoa(status)}]++
	h := m.latency[protocol]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[protocol] = h
	}
	s := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, s)
	h.counts[i]++
	h.sum += s
	h.n++
}

// error records one error answered to a client: a whole request's or one
// statement's, by its code (an SQLSTATE, a SQLITE_* or Hrana code, or a
// word such as "unauthorized").
func (m *metrics) error(protocol, code string) {
	if code == "" {
		code = "unknown"
	}
	if len(code) > 48 {
		code = code[:48]
	}
	m.mu.Lock()
	m.errors[[2]string{protocol, code}]++
	m.mu.Unlock()
}

// write writes every metric.
func (m *metrics) write(w io.Writer) error {
	var b strings.Builder
	m.mu.Lock()
	b.WriteString("# HELP forge_gateway_requests_total HTTP requests answered, by protocol and status.\n")
	b.WriteString("# TYPE forge_gateway_requests_total counter\n")
	for _, k := range sortedKeys(m.requests) {
		b.WriteString("forge_gateway_requests_total{protocol=" + labelValue(k[0]) + ",status=" + labelValue(k[1]) + "} " + strconv.FormatUint(m.requests[k], 10) + "\n")
	}
	b.WriteString("# HELP forge_gateway_errors_total Errors answered to clients (whole requests and single statements), by protocol and code.\n")
	b.WriteString("# TYPE forge_gateway_errors_total counter\n")
	for _, k := range sortedKeys(m.errors) {
		b.WriteString("forge_gateway_errors_total{protocol=" + labelValue(k[0]) + ",code=" + labelValue(k[1]) + "} " + strconv.FormatUint(m.errors[k], 10) + "\n")
	}
	b.WriteString("# HELP forge_gateway_request_duration_seconds Time from a request's arrival to its answer, by protocol.\n")
	b.WriteString("# TYPE forge_gateway_request_duration_seconds histogram\n")
	protos := make([]string, 0, len(m.latency))
	for p := range m.latency {
		protos = append(protos, p)
	}
	slices.Sort(protos)
	for _, p := range protos {
		h := m.latency[p]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			b.WriteString("forge_gateway_request_duration_seconds_bucket{protocol=" + labelValue(p) + ",le=\"" + strconv.FormatFloat(le, 'g', -1, 64) + "\"} " + strconv.FormatUint(cum, 10) + "\n")
		}
		b.WriteString("forge_gateway_request_duration_seconds_bucket{protocol=" + labelValue(p) + ",le=\"+Inf\"} " + strconv.FormatUint(h.n, 10) + "\n")
		b.WriteString("forge_gateway_request_duration_seconds_sum{protocol=" + labelValue(p) + "} " + formatFloat(h.sum) + "\n")
		b.WriteString("forge_gateway_request_duration_seconds_count{protocol=" + labelValue(p) + "} " + strconv.FormatUint(h.n, 10) + "\n")
	}
	m.mu.Unlock()
	b.WriteString("# HELP forge_gateway_in_flight_requests Requests being served.\n")
	b.WriteString("# TYPE forge_gateway_in_flight_requests gauge\n")
	b.WriteString("forge_gateway_in_flight_requests " + strconv.FormatInt(m.inFlight.Load(), 10) + "\n")
	open := 0
	if m.streams != nil {
		open = m.streams()
	}
	b.WriteString("# HELP forge_gateway_open_streams Hrana streams open (each holds a database connection).\n")
	b.WriteString("# TYPE forge_gateway_open_streams gauge\n")
	b.WriteString("forge_gateway_open_streams " + strconv.Itoa(open) + "\n")
	b.WriteString("# HELP forge_gateway_streams_expired_total Hrana streams closed because they were idle too long.\n")
	b.WriteString("# TYPE forge_gateway_streams_expired_total counter\n")
	b.WriteString("forge_gateway_streams_expired_total " + strconv.FormatUint(m.expired.Load(), 10) + "\n")
	b.WriteString("# HELP forge_gateway_start_time_seconds When the gateway started, in Unix seconds.\n")
	b.WriteString("# TYPE forge_gateway_start_time_seconds gauge\n")
	b.WriteString("forge_gateway_start_time_seconds " + formatFloat(float64(m.startTime.UnixNano())/1e9) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedKeys(m map[[2]string]uint64) [][2]string {
	keys := make([][2]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	return keys
}

// labelValue quotes a label value: backslash, double quote and newline are
// escaped.
func labelValue(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
