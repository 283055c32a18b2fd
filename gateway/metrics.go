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
	sessions  func() int // PlanetScale sessions in a transaction
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
// statement's, by its code, mapped by metricCode to a bounded set.
func (m *metrics) error(protocol, code string) {
	code = metricCode(code)
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
	sessions := 0
	if m.sessions != nil {
		sessions = m.sessions()
	}
	b.WriteString("# HELP forge_gateway_planetscale_transactions PlanetScale sessions in a transaction (each holds a MySQL connection).\n")
	b.WriteString("# TYPE forge_gateway_planetscale_transactions gauge\n")
	b.WriteString("forge_gateway_planetscale_transactions " + strconv.Itoa(sessions) + "\n")
	b.WriteString("# HELP forge_gateway_streams_expired_total Hrana streams and PlanetScale sessions closed because they were idle or in a transaction too long.\n")
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

// gatewayCodes are the error codes the gateway itself answers, on every
// protocol, and SQLite's primary result codes: the label values an error
// may have besides the SQLSTATEs below.
var gatewayCodes = map[string]bool{
	"UNAUTHORIZED": true, "NOT_FOUND": true, "METHOD_NOT_ALLOWED": true, "NOT_CONFIGURED": true, "TOO_MANY_REQUESTS": true,
	"REQUEST_TOO_LARGE": true, "SERVER_BUSY": true, "INTERNAL": true, "PROTOCOL_ERROR": true, "BATON_INVALID": true,
	"BATON_REUSED": true, "STREAM_EXPIRED": true, "STREAM_CLOSED": true, "STREAM_BUSY": true, "TOO_MANY_STREAMS": true,
	"TOO_MANY_STATEMENTS": true, "STATEMENT_NOT_ALLOWED": true, "ROWS_LIMIT_EXCEEDED": true, "RESPONSE_TOO_LARGE": true,
	"SQL_INPUT_ERROR": true, "SQL_NO_STATEMENT": true, "SQL_MANY_STATEMENTS": true, "SQL_NOT_FOUND": true,
	"SQL_STORE_FULL": true, "ARGS_INVALID": true, "ARGS_BOTH_POSITIONAL_AND_NAMED": true, "BATCH_COND_INVALID": true,
	"SQLITE_ERROR": true, "SQLITE_INTERNAL": true, "SQLITE_PERM": true, "SQLITE_ABORT": true, "SQLITE_BUSY": true,
	"SQLITE_LOCKED": true, "SQLITE_NOMEM": true, "SQLITE_READONLY": true, "SQLITE_INTERRUPT": true, "SQLITE_IOERR": true,
	"SQLITE_CORRUPT": true, "SQLITE_NOTFOUND": true, "SQLITE_FULL": true, "SQLITE_CANTOPEN": true, "SQLITE_PROTOCOL": true,
	"SQLITE_EMPTY": true, "SQLITE_SCHEMA": true, "SQLITE_TOOBIG": true, "SQLITE_CONSTRAINT": true, "SQLITE_MISMATCH": true,
	"SQLITE_MISUSE": true, "SQLITE_NOLFS": true, "SQLITE_AUTH": true, "SQLITE_FORMAT": true, "SQLITE_RANGE": true,
	"SQLITE_NOTADB": true, "SQLITE_NOTICE": true, "SQLITE_WARNING": true,
	// PlanetScale's (Vitess's) codes.
	"UNAUTHENTICATED": true, "PERMISSION_DENIED": true, "INVALID_ARGUMENT": true, "ALREADY_EXISTS": true,
	"ABORTED": true, "FAILED_PRECONDITION": true, "RESOURCE_EXHAUSTED": true, "UNAVAILABLE": true,
	"DEADLINE_EXCEEDED": true, "CANCELED": true, "UNIMPLEMENTED": true,
}

// sqlStates are the SQLSTATEs counted by their own label: the gateway's
// own answers and the errors an application commonly watches. Any other
// SQLSTATE, which a client can choose (RAISE ... USING ERRCODE), is
// counted by its class ("42xxx"), and a class PostgreSQL does not define
// as "other".
var sqlStates = map[string]bool{
	"08006": true, "08P01": true, "0A000": true, "21000": true, "22001": true, "22003": true, "22007": true, "22008": true,
	"22012": true, "22P02": true, "23502": true, "23503": true, "23505": true, "23514": true, "23P01": true, "25001": true,
	"25006": true, "25P02": true, "40001": true, "40P01": true, "42501": true, "42601": true, "42703": true, "42704": true,
	"42803": true, "42804": true, "42883": true, "42P01": true, "42P07": true, "53300": true, "54000": true, "55P03": true,
	"57014": true, "57P01": true, "57P02": true, "57P03": true, "P0001": true,
}

// sqlStateClasses are the classes PostgreSQL defines (Appendix A).
var sqlStateClasses = map[string]bool{
	"00": true, "01": true, "02": true, "03": true, "08": true, "09": true, "0A": true, "0B": true, "0F": true, "0L": true,
	"0P": true, "0Z": true, "20": true, "21": true, "22": true, "23": true, "24": true, "25": true, "26": true, "27": true,
	"28": true, "2B": true, "2D": true, "2F": true, "34": true, "38": true, "39": true, "3B": true, "3D": true, "3F": true,
	"40": true, "42": true, "44": true, "53": true, "54": true, "55": true, "57": true, "58": true, "72": true, "F0": true,
	"HV": true, "P0": true, "XX": true,
}

// metricCode maps an error code to a label value from a bounded set, so
// that no client can create new series: the gateway's and SQLite's codes,
// HTTP statuses, the SQLSTATEs above, else an SQLSTATE's class, else
// "other".
func metricCode(code string) string {
	switch {
	case code == "":
		return "unknown"
	case gatewayCodes[code], sqlStates[code]:
		return code
	case len(code) == 3 && code >= "100" && code <= "599" && isDigits(code):
		return code
	case len(code) == 5 && sqlStateClasses[code[:2]]:
		return code[:2] + "xxx"
	}
	return "other"
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
