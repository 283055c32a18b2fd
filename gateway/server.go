package gateway

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forge-orm/forge/wire/jsonx"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config configures a Server. Postgres and SQLite name the databases; at
// least one is needed, and a protocol whose database is not configured
// answers 501.
type Config struct {
	// Postgres serves Neon's SQL over HTTP (POST /sql). Open it with
	// OpenPostgres, which refuses a superuser role.
	Postgres *pgxpool.Pool
	// PostgresReadOnly, when set, is where read tokens' statements run
	// (--read-dsn): a pool whose role cannot write, opened with
	// OpenPostgres(..., PostgresOptions{ReadOnly: true}), which checks
	// that. Without it read tokens share Postgres's role, in READ ONLY
	// transactions.
	PostgresReadOnly *pgxpool.Pool
	// MaxPostgresPerToken bounds the PostgreSQL connections one token
	// holds at once, so that one token cannot take the whole pool. It
	// must be below each pool's size (when that is above 1). 0 means a
	// quarter of the smaller pool, at least 1.
	MaxPostgresPerToken int
	// AcquireTimeout bounds how long a request waits for its token's
	// share and for a pooled connection: beyond it the answer is 429
	// (TOO_MANY_REQUESTS: the token holds its share) or 503 (53300: the
	// pool is busy). 0 means 5 s.
	AcquireTimeout time.Duration
	// MaxParams bounds the parameters (JSON array elements, array
	// parameters' items too) of one Neon request, counted before it is
	// decoded (400 beyond). 0 means 262144 (four statements of
	// PostgreSQL's 65535).
	MaxParams int
	// MaxInFlightBytes bounds the request bodies being served at once,
	// over all tokens and both protocols: a request reserves its body's
	// size (Content-Length, or MaxBodyBytes when unknown) before reading
	// it and waits, at most AcquireTimeout, for room (503 SERVER_BUSY
	// beyond). 0 means 4 × MaxBodyBytes. It is at least MaxBodyBytes.
	MaxInFlightBytes int64
	// SQLite serves Hrana over HTTP (POST /v2/pipeline, /v3/pipeline) to
	// write tokens; SQLiteReadOnly to read tokens. Open SQLiteReadOnly on
	// the same file with mode=ro (OpenSQLite does both); without it, read
	// tokens are refused (403) on Hrana.
	SQLite         *sql.DB
	SQLiteReadOnly *sql.DB
	// MySQL serves PlanetScale's HTTP API (POST
	// /psdb.v1alpha1.Database/Execute, CreateSession, CloseSession) on a
	// MySQL or MariaDB database. Open it with OpenMySQL, which refuses a
	// user with server-wide privileges.
	MySQL *sql.DB
	// MySQLReadOnly, when set, is where read tokens' statements run
	// (--read-dsn mysql://...): a pool whose user can only read, opened
	// with OpenMySQL(..., MySQLOptions{ReadOnly: true}), which checks
	// that. Without it read tokens run on MySQL's user, in READ ONLY
	// transactions.
	MySQLReadOnly *sql.DB
	// MaxMySQLPerToken bounds the MySQL connections one token holds at
	// once, open PlanetScale transactions (each pins one) included. It
	// must be below the pools' size. 0 means a quarter of the smaller
	// pool, at least 1.
	MaxMySQLPerToken int

	// Tokens are the bearer tokens accepted (at least one).
	Tokens []Token
	// Statements, when set, is an allow-list: clients send "@name" and
	// raw SQL is refused with 403.
	Statements Statements

	// MaxBodyBytes bounds a request body (413 beyond). 0 means 10 MiB.
	MaxBodyBytes int64
	// MaxResponseBytes bounds a response body. 0 means 10 MiB.
	MaxResponseBytes int
	// MaxStatements bounds the statements of one request (400 beyond).
	// 0 means 10000 (the libSQL client's own tests send batches of 4000).
	MaxStatements int
	// StatementTimeout bounds each statement. 0 means 30 s.
	StatementTimeout time.Duration
	// MaxRows bounds the rows one statement returns. 0 means 100000.
	MaxRows int
	// MaxConcurrent bounds the requests of one token in flight at once
	// (429 beyond). 0 means 32 (the libSQL client runs up to 20).
	MaxConcurrent int
	// StreamIdle is how long a Hrana stream, or a PlanetScale session in
	// a transaction, lives without a request. 0 means 10 s.
	StreamIdle time.Duration
	// MaxStreams bounds the Hrana streams open at once (each holds a
	// SQLite connection). 0 means 256.
	MaxStreams int
	// MaxStreamsPerToken bounds the Hrana streams one token holds open
	// (429 TOO_MANY_STREAMS beyond), so that one token leaves streams for
	// the others. 0 means a quarter of MaxStreams (at least 1).
	MaxStreamsPerToken int
	// MaxTransaction bounds how long a Hrana stream or a PlanetScale
	// session may stay in a transaction (holding SQLite's write lock, a
	// snapshot or MySQL's row locks): it is then closed and its
	// transaction rolled back. 0 means 1 minute.
	MaxTransaction time.Duration
	// HranaMemory bounds the memory Hrana requests hold at once (their
	// bodies as decoded, and their responses), in estimated bytes; one
	// token may hold half of it. 0 means 256 MiB.
	HranaMemory int64
	// BaseURL is what Hrana responses carry as base_url ("" sends null).
	BaseURL string
	// Logger receives one line per request, and failures. nil means
	// slog.Default().
	Logger *slog.Logger
}

// Server is the gateway's http.Handler: /healthz, /metrics, Neon's /sql
// and Hrana's /v2/pipeline and /v3/pipeline, with authentication, roles,
// limits, request ids, logs and metrics. Close it to end its streams.
type Server struct {
	cfg      Config
	tokens   *tokenSet
	neon     *neonHandler
	hrana    *hranaHandler
	ps       *psHandler
	metrics  *metrics
	log      *slog.Logger
	budget   *byteBudget
	draining atomic.Bool
}

// NewServer checks cfg, fills in its defaults and returns the Server.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Postgres == nil && cfg.SQLite == nil && cfg.MySQL == nil {
		return nil, errors.New("gateway: no database (want a PostgreSQL pool, a SQLite database, a MySQL database, or several)")
	}
	if len(cfg.Tokens) == 0 {
		return nil, errors.New("gateway: no token: every request but /healthz needs one")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = defaultMaxBytes
	}
	def(&cfg.MaxResponseBytes, defaultMaxBytes)
	def(&cfg.MaxStatements, 10000)
	def(&cfg.MaxRows, 100000)
	def(&cfg.MaxConcurrent, 32)
	def(&cfg.MaxStreams, 256)
	def(&cfg.MaxStreamsPerToken, max(cfg.MaxStreams/4, 1))
	cfg.MaxStreamsPerToken = min(cfg.MaxStreamsPerToken, cfg.MaxStreams)
	if cfg.MaxTransaction <= 0 {
		cfg.MaxTransaction = time.Minute
	}
	if cfg.HranaMemory <= 0 {
		cfg.HranaMemory = 256 << 20
	}
	if cfg.StatementTimeout <= 0 {
		cfg.StatementTimeout = 30 * time.Second
	}
	if cfg.StreamIdle <= 0 {
		cfg.StreamIdle = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AcquireTimeout <= 0 {
		cfg.AcquireTimeout = 5 * time.Second
	}
	def(&cfg.MaxParams, defaultMaxParams)
	if cfg.MaxInFlightBytes <= 0 {
		cfg.MaxInFlightBytes = 4 * cfg.MaxBodyBytes
	}
	if cfg.MaxInFlightBytes < cfg.MaxBodyBytes {
		return nil, errors.New("gateway: the in-flight bytes budget (" + strconv.FormatInt(cfg.MaxInFlightBytes, 10) +
			") is below the largest body (" + strconv.FormatInt(cfg.MaxBodyBytes, 10) + "): a largest request could never run")
	}
	if cfg.PostgresReadOnly != nil && cfg.Postgres == nil {
		return nil, errors.New("gateway: a read-only PostgreSQL pool without the PostgreSQL pool")
	}
	poolSize := 0
	for _, p := range []*pgxpool.Pool{cfg.Postgres, cfg.PostgresReadOnly} {
		if p != nil && (poolSize == 0 || int(p.Config().MaxConns) < poolSize) {
			poolSize = int(p.Config().MaxConns)
		}
	}
	if cfg.Postgres != nil {
		def(&cfg.MaxPostgresPerToken, max(1, poolSize/4))
		if poolSize > 1 && cfg.MaxPostgresPerToken >= poolSize {
			return nil, errors.New("gateway: a token may hold " + strconv.Itoa(cfg.MaxPostgresPerToken) + " of the pool's " +
				strconv.Itoa(poolSize) + " PostgreSQL connections: keep the per-token share below the pool size, so that one token cannot take the whole pool")
		}
	}
	if cfg.MySQLReadOnly != nil && cfg.MySQL == nil {
		return nil, errors.New("gateway: a read-only MySQL pool without the MySQL pool")
	}
	myPool := 0
	for _, db := range []*sql.DB{cfg.MySQL, cfg.MySQLReadOnly} {
		if db != nil && (myPool == 0 || db.Stats().MaxOpenConnections < myPool) {
			myPool = db.Stats().MaxOpenConnections
		}
	}
	if cfg.MySQL != nil {
		if myPool <= 0 {
			return nil, errors.New("gateway: the MySQL pool has no connection limit: open it with OpenMySQL (or call SetMaxOpenConns)")
		}
		def(&cfg.MaxMySQLPerToken, max(1, myPool/4))
		if myPool > 1 && cfg.MaxMySQLPerToken >= myPool {
			return nil, errors.New("gateway: a token may hold " + strconv.Itoa(cfg.MaxMySQLPerToken) + " of the pool's " +
				strconv.Itoa(myPool) + " MySQL connections: keep the per-token share below the pool size, so that one token cannot take the whole pool")
		}
	}
	ts, err := newTokenSet(cfg.Tokens, cfg.MaxConcurrent)
	if err != nil {
		return nil, errors.New("gateway: " + err.Error())
	}
	ts.limitPostgres(max(cfg.MaxPostgresPerToken, 1))
	ts.limitMySQL(max(cfg.MaxMySQLPerToken, 1))
	s := &Server{cfg: cfg, tokens: ts, metrics: newMetrics(), log: cfg.Logger, budget: newByteBudget(cfg.MaxInFlightBytes)}
	if cfg.Postgres != nil {
		s.neon = NewNeonHandler(cfg.Postgres, NeonOptions{
			MaxRequestBytes: cfg.MaxBodyBytes, MaxResponseBytes: cfg.MaxResponseBytes, Logger: cfg.Logger,
			MaxRows: cfg.MaxRows, MaxStatements: cfg.MaxStatements, StatementTimeout: cfg.StatementTimeout,
			ReadOnlyPool: cfg.PostgresReadOnly, AcquireTimeout: cfg.AcquireTimeout, MaxParams: cfg.MaxParams,
		}).(*neonHandler)
		s.neon.metrics = s.metrics
	}
	if cfg.SQLite != nil {
		s.hrana = newHranaHandler(s)
		s.metrics.streams = s.hrana.open
	}
	if cfg.MySQL != nil {
		s.ps = newPSHandler(s)
		s.metrics.sessions = s.ps.open
	}
	return s, nil
}

// Close closes every Hrana stream and PlanetScale session (rolling back
// what they left open). It does not close the databases.
func (s *Server) Close() error {
	if s.hrana != nil {
		s.hrana.close()
	}
	if s.ps != nil {
		s.ps.close()
	}
	return nil
}

// Drain makes /healthz answer 503, so that a load balancer stops sending
// requests; Main calls it when shutting down.
func (s *Server) Drain() { s.draining.Store(true) }

// policy is what a request may do, set by the Server for its handlers.
type policy struct {
	principal  *principal
	role       Role
	statements Statements
	log        *slog.Logger
	requestID  string
}

type policyKey struct{}

func policyFrom(ctx context.Context) *policy {
	p, _ := ctx.Value(policyKey{}).(*policy)
	return p
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	code   string // the error code answered, for the metrics
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// requestID returns the client's X-Request-Id when it is a sane one, or a
// new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 {
		ok := true
		for i := 0; i < len(id); i++ {
			if c := id[i]; c < 0x21 || c > 0x7e {
				ok = false
				break
			}
		}
		if ok {
			return id
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// protocolOf names the protocol a path belongs to.
func protocolOf(path string) string {
	switch {
	case path == "/sql" || strings.HasSuffix(path, "/sql"):
		return "neon"
	case strings.HasSuffix(path, "/v2/pipeline") || strings.HasSuffix(path, "/v3/pipeline"):
		return "hrana"
	case path == "/v2" || path == "/v3" || strings.HasSuffix(path, "/v2") || strings.HasSuffix(path, "/v3"):
		return "hrana-version"
	case strings.HasPrefix(path, "/psdb.v1alpha1.Database/"):
		return "planetscale"
	case path == "/healthz":
		return "healthz"
	case path == "/metrics":
		return "metrics"
	}
	return "other"
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r)
	w.Header().Set("X-Request-Id", id)
	proto := protocolOf(r.URL.Path)
	log := s.log.With("request_id", id)
	pol := &policy{log: log, requestID: id}
	sw := &statusWriter{ResponseWriter: w}
	s.metrics.inFlight.Add(1)
	defer func() {
		s.metrics.inFlight.Add(-1)
		if v := recover(); v != nil {
			// A handler's bug must not take the gateway down.
			log.ErrorContext(r.Context(), "gateway: panic", "panic", v, "path", r.URL.Path)
			if sw.status == 0 {
				writeProtoError(sw, http.StatusInternalServerError, "internal error", "INTERNAL")
			}
		}
		d := time.Since(start)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		s.metrics.request(proto, status, d)
		if status >= 400 {
			s.metrics.error(proto, errorCode(sw))
		}
		attrs := []any{"method", r.Method, "path", r.URL.Path, "protocol", proto, "status", status,
			"duration_ms", float64(d.Microseconds()) / 1000, "bytes", sw.bytes, "remote", r.RemoteAddr}
		if pol.principal != nil {
			attrs = append(attrs, "token", pol.principal.name, "role", pol.principal.role.String())
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelWarn
		}
		log.Log(r.Context(), level, "request", attrs...)
	}()
	r = r.WithContext(context.WithValue(r.Context(), policyKey{}, pol))

	switch proto {
	case "healthz":
		if s.draining.Load() {
			writeJSON(sw, http.StatusServiceUnavailable, []byte(`{"status":"draining"}`))
			return
		}
		writeJSON(sw, http.StatusOK, []byte(`{"status":"ok"}`))
		return
	case "hrana-version":
		// hrana-client's version probe (GET /v2, /v3): no token is sent.
		if r.Method != http.MethodGet {
			writeProtoError(sw, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed", "METHOD_NOT_ALLOWED")
			return
		}
		if s.hrana == nil {
			writeProtoError(sw, http.StatusNotImplemented, notConfigured("hrana"), "NOT_CONFIGURED")
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		sw.WriteHeader(http.StatusOK)
		return
	case "other":
		writeProtoError(sw, http.StatusNotFound, "not found: this gateway serves POST /sql (Neon), POST /v2/pipeline and /v3/pipeline (Hrana), POST /psdb.v1alpha1.Database/Execute (PlanetScale), /healthz and /metrics", "NOT_FOUND")
		return
	}

	// PlanetScale's clients read errors as {"error": {code, message}}.
	fail := writeProtoError
	if proto == "planetscale" {
		fail = func(w http.ResponseWriter, status int, msg, code string) { writePSError(w, status, code, msg) }
	}
	p := s.tokens.check(r)
	if p == nil {
		if proto == "planetscale" {
			sw.Header().Set("WWW-Authenticate", `Basic realm="forge-gateway"`)
			fail(sw, http.StatusUnauthorized, "missing or unknown token (connect as http://NAME:SECRET@host, which sends Authorization: Basic)", "UNAUTHENTICATED")
			return
		}
		sw.Header().Set("WWW-Authenticate", `Bearer realm="forge-gateway"`)
		writeProtoError(sw, http.StatusUnauthorized, "missing or unknown bearer token (send Authorization: Bearer <token>)", "UNAUTHORIZED")
		return
	}
	pol.principal, pol.role, pol.statements = p, p.role, s.cfg.Statements

	if proto == "metrics" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeProtoError(sw, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed", "METHOD_NOT_ALLOWED")
			return
		}
		sw.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		sw.WriteHeader(http.StatusOK)
		_ = s.metrics.write(sw)
		return
	}

	if (proto == "neon" && s.neon == nil) || (proto == "hrana" && s.hrana == nil) || (proto == "planetscale" && s.ps == nil) {
		fail(sw, http.StatusNotImplemented, notConfigured(proto), "NOT_CONFIGURED")
		return
	}
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	default:
		sw.Header().Set("Retry-After", "1")
		fail(sw, http.StatusTooManyRequests, "too many concurrent requests for token \""+p.name+"\" (at most "+strconv.Itoa(cap(p.slots))+")", "TOO_MANY_REQUESTS")
		return
	}
	// The body's bytes are reserved before it is read, so that many large
	// bodies at once wait (boundedly) instead of exhausting memory.
	n := s.cfg.MaxBodyBytes
	if r.ContentLength >= 0 && r.ContentLength < n {
		n = r.ContentLength
	}
	if n > 0 {
		wctx, cancel := context.WithTimeout(r.Context(), s.cfg.AcquireTimeout)
		ok := s.budget.acquire(wctx, n)
		cancel()
		if !ok {
			sw.Header().Set("Retry-After", "1")
			fail(sw, http.StatusServiceUnavailable, "the gateway is serving too many large requests at once (at most "+
				strconv.FormatInt(s.cfg.MaxInFlightBytes, 10)+" bytes of bodies in flight); retry", "SERVER_BUSY")
			return
		}
		defer s.budget.release(n)
	}
	switch proto {
	case "neon":
		s.neon.ServeHTTP(sw, r)
	case "planetscale":
		s.ps.ServeHTTP(sw, r)
	default:
		s.hrana.ServeHTTP(sw, r)
	}
}

func notConfigured(proto string) string {
	if proto == "neon" {
		return "this gateway serves no PostgreSQL database: Neon's protocol (/sql) needs --db postgres://..."
	}
	if proto == "planetscale" {
		return "this gateway serves no MySQL database: PlanetScale's protocol (/psdb.v1alpha1.Database/...) needs --db mysql://..."
	}
	return "this gateway serves no SQLite database: Hrana (/v2/pipeline) needs --db sqlite:PATH"
}

// writeProtoError writes {"message": ..., "code": ...}: the error body of
// both protocols (Neon's NeonDbError reads message and code; libSQL's
// clients read message and code of a non-2xx JSON body).
func writeProtoError(w http.ResponseWriter, status int, msg, code string) {
	b := append([]byte(`{"message":`), jsonx.AppendString(nil, msg)...)
	if code != "" {
		b = append(b, `,"code":`...)
		b = jsonx.AppendString(b, code)
	}
	b = append(b, '}')
	noteErrorCode(w, code)
	writeJSON(w, status, b)
}

// noteErrorCode tells the metrics which error a response carries.
func noteErrorCode(w http.ResponseWriter, code string) {
	if sw, ok := w.(*statusWriter); ok {
		sw.code = code
	}
}

func errorCode(sw *statusWriter) string {
	if sw.code != "" {
		return sw.code
	}
	return strconv.Itoa(sw.status)
}

// byteBudget is a weighted semaphore of bytes: the request bodies in
// flight.
type byteBudget struct {
	mu   sync.Mutex
	max  int64
	used int64
	wake chan struct{} // closed and replaced on every release
}

func newByteBudget(max int64) *byteBudget {
	return &byteBudget{max: max, wake: make(chan struct{})}
}

// acquire reserves n bytes, waiting until they fit or ctx ends (false).
func (b *byteBudget) acquire(ctx context.Context, n int64) bool {
	for {
		b.mu.Lock()
		if b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			return true
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return false
		}
	}
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.wake)
	b.wake = make(chan struct{})
	b.mu.Unlock()
}
