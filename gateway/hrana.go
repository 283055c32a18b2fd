package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/forge-orm/forge/wire/hrana"
)

// hranaHandler serves Hrana over HTTP (POST /v2/pipeline, /v3/pipeline;
// v3's JSON is a superset of v2's, and both are served alike) in front of
// SQLite.
//
// A pipeline runs its requests in order on a stream. A stream holds one
// SQLite connection (database/sql's *sql.Conn) from its first statement to
// its end, so that an interactive transaction stays on one connection
// across requests. A stream that is not closed by its pipeline is kept,
// and the response carries a baton for the next request: 16 random-looking
// bytes of stream id and sequence number, signed with HMAC-SHA256 under a
// key made at start, so that a baton cannot be forged, and rotated on every
// response, so that an old one is refused. A stream idle for longer than
// Config.StreamIdle is closed, rolling back what it left open.
type hranaHandler struct {
	srv  *Server
	rw   *sql.DB
	ro   *sql.DB // nil: read tokens are refused
	key  [32]byte
	idle time.Duration
	// maxValue bounds a string or blob a statement may build
	// (SQLITE_LIMIT_LENGTH): the larger of the request and response
	// limits, since no value can come in or go out larger.
	maxValue int
	mem      *memBudget // the memory requests hold (Config.HranaMemory)

	mu       sync.Mutex
	streams  map[uint64]*stream
	perToken map[*principal]int // open streams by token
	nextID   uint64
	closed   bool

	stop chan struct{}
	done chan struct{}
}

func newHranaHandler(s *Server) *hranaHandler {
	h := &hranaHandler{srv: s, rw: s.cfg.SQLite, ro: s.cfg.SQLiteReadOnly, idle: s.cfg.StreamIdle,
		streams: map[uint64]*stream{}, perToken: map[*principal]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	h.mem = newMemBudget(s.cfg.HranaMemory)
	h.maxValue = int(min(max(s.cfg.MaxBodyBytes, int64(s.cfg.MaxResponseBytes), 1<<20), 1_000_000_000))
	_, _ = rand.Read(h.key[:])
	var b [8]byte
	_, _ = rand.Read(b[:])
	h.nextID = binary.BigEndian.Uint64(b[:]) >> 1
	go h.janitor()
	return h
}

// open returns the number of open streams.
func (h *hranaHandler) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.streams)
}

// stream is one Hrana stream: its connection and stored SQL.
type stream struct {
	id    uint64
	owner *principal
	role  Role
	lock  chan struct{} // held while a pipeline runs on the stream

	// Guarded by lock:
	seq      uint64 // the sequence number of the baton last issued
	lastUsed time.Time
	txSince  time.Time // when its connection was first seen in a transaction (zero: not in one)
	gone     bool      // closed (expired, or the handler closed)
	closed   bool      // a close request ran
	conn     *sqliteConn
	sqls     map[int32]string
	sqlBytes int // the bytes of sqls' texts
}

func (st *stream) tryLock() bool {
	select {
	case st.lock <- struct{}{}:
		return true
	default:
		return false
	}
}

func (st *stream) unlock() { <-st.lock }

// maxStoredSQL and maxStoredSQLBytes bound the SQL texts one stream
// stores (store_sql), in number and in bytes: at most
// --max-streams × 256 KiB for every stream together.
const (
	maxStoredSQL      = 1000
	maxStoredSQLBytes = 256 << 10
)

// janitor closes idle streams until the handler closes.
func (h *hranaHandler) janitor() {
	defer close(h.done)
	tick := h.idle / 4
	tick = max(min(tick, time.Second), 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			h.expire(now)
		}
	}
}

// expire closes the streams idle for longer than h.idle (those in use are
// not idle).
func (h *hranaHandler) expire(now time.Time) {
	var old []*stream
	h.mu.Lock()
	for id, st := range h.streams {
		if !st.tryLock() {
			continue
		}
		// An idle stream expires, and so does one whose transaction has
		// lasted longer than --max-transaction, however busy: it would
		// hold SQLite's write lock (or a snapshot) from the others.
		if now.Sub(st.lastUsed) > h.idle || !st.txSince.IsZero() && now.Sub(st.txSince) > h.srv.cfg.MaxTransaction {
			h.remove(id, st)
			st.gone = true
			old = append(old, st)
			continue // stays locked: nobody may use it any more
		}
		st.unlock()
	}
	h.mu.Unlock()
	for _, st := range old {
		h.srv.metrics.expired.Add(1)
		h.release(st)
		st.unlock()
	}
}

// close ends the janitor and closes every stream, waiting for those in use.
func (h *hranaHandler) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	all := make([]*stream, 0, len(h.streams))
	for id, st := range h.streams {
		all = append(all, st)
		h.remove(id, st)
	}
	h.mu.Unlock()
	close(h.stop)
	<-h.done
	for _, st := range all {
		st.lock <- struct{}{}
		st.gone = true
		h.release(st)
		st.unlock()
	}
}

// release gives a stream's connection back (see sqliteConn.release).
func (h *hranaHandler) release(st *stream) {
	if st.conn != nil {
		st.conn.release()
		st.conn = nil
	}
}

// baton returns the baton for st's next request.
func (h *hranaHandler) baton(st *stream) string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[0:], st.id)
	binary.BigEndian.PutUint64(b[8:], st.seq)
	m := hmac.New(sha256.New, h.key[:])
	m.Write(b[:16])
	copy(b[16:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parseBaton checks a baton's signature and returns its stream id and
// sequence number.
func (h *hranaHandler) parseBaton(s string) (id, seq uint64, ok bool) {
	if len(s) != 43 {
		return 0, 0, false
	}
	var b [33]byte
	n, err := base64.RawURLEncoding.Decode(b[:], []byte(s))
	if err != nil || n != 32 {
		return 0, 0, false
	}
	m := hmac.New(sha256.New, h.key[:])
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil)[:16], b[16:32]) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(b[0:]), binary.BigEndian.Uint64(b[8:]), true
}

// streamError is an HTTP error of a whole pipeline: its status and the
// JSON error the libSQL clients read ({"message", "code"}).
type streamError struct {
	status int
	msg    string
	code   string
}

func (e *streamError) write(w http.ResponseWriter) {
	writeProtoError(w, e.status, e.msg, e.code)
}

// ServeHTTP serves one pipeline request.
func (h *hranaHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeProtoError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed: send the pipeline in a POST", "METHOD_NOT_ALLOWED")
		return
	}
	pol := policyFrom(r.Context())
	if pol == nil || pol.principal == nil { // cannot happen: the Server authenticates first
		writeProtoError(w, http.StatusUnauthorized, "no token", "UNAUTHORIZED")
		return
	}
	if pol.role == RoleRead && h.ro == nil {
		writeProtoError(w, http.StatusForbidden, "read tokens are not served on this database (an in-memory SQLite database has no read-only connection)", "FORBIDDEN")
		return
	}
	// What the body takes decoded is reserved before it is read (all of
	// --max-body when its length is not declared), then brought down to
	// its real size; the response's rows are reserved as they are read.
	declared := r.ContentLength
	if declared < 0 || declared > h.srv.cfg.MaxBodyBytes {
		declared = h.srv.cfg.MaxBodyBytes
	}
	reserved := h.mem.acquire(r.Context(), pol.principal, decodeCost(declared), memWait)
	if reserved == 0 {
		w.Header().Set("Retry-After", "1")
		writeProtoError(w, http.StatusServiceUnavailable, "the gateway's memory for requests is in use (--hrana-memory, of which a token may hold half); retry later", "SERVER_BUSY")
		return
	}
	ex := &executor{h: h, role: pol.role, owner: pol.principal, budget: h.srv.cfg.MaxResponseBytes, metrics: h.srv.metrics}
	defer func() { h.mem.release(pol.principal, reserved+ex.memReserved) }()
	body, he := readBody(w, r, h.srv.cfg.MaxBodyBytes)
	if he != nil {
		writeProtoError(w, he.status, he.body.Message, "REQUEST_TOO_LARGE")
		return
	}
	if n := min(decodeCost(int64(len(body))), reserved); n < reserved {
		h.mem.release(pol.principal, reserved-n)
		reserved = n
	}
	req, err := hrana.DecodePipelineRequest(body)
	if err != nil {
		writeProtoError(w, http.StatusBadRequest, "invalid pipeline request: "+errors.Unwrap(err).Error(), "PROTOCOL_ERROR")
		return
	}
	if n := countStatements(req); n > h.srv.cfg.MaxStatements {
		writeProtoError(w, http.StatusBadRequest, strconv.Itoa(n)+" statements in one request; this gateway runs at most "+strconv.Itoa(h.srv.cfg.MaxStatements), "TOO_MANY_STATEMENTS")
		return
	}
	if pol.statements != nil {
		if se := resolveStatements(req, pol.statements); se != nil {
			se.write(w)
			return
		}
	}
	st, se := h.acquire(r.Context(), req, pol)
	if se != nil {
		se.write(w)
		return
	}
	ex.st = st
	resp := hrana.PipelineResponse{Results: make([]hrana.StreamResult, len(req.Requests))}
	for i := range req.Requests {
		resp.Results[i] = ex.request(r.Context(), &req.Requests[i])
		if e := resp.Results[i].Error; e != nil {
			h.srv.metrics.error("hrana", e.Code)
		}
	}
	// A stream whose client went away, or that a close request ended, is
	// closed now; any other gets a new baton.
	keep := !st.closed && r.Context().Err() == nil
	if keep {
		st.seq++
		b := h.baton(st)
		resp.Baton = &b
		st.lastUsed = time.Now()
		// Whether it is in a transaction (for --max-transaction): the
		// statements may have begun or ended one in any way.
		if st.conn != nil && st.conn.used {
			if ac, err := st.conn.autocommit(r.Context()); err == nil && ac {
				st.txSince = time.Time{}
			} else if st.txSince.IsZero() {
				st.txSince = st.lastUsed
			}
		}
	} else {
		h.forget(st)
	}
	if h.srv.cfg.BaseURL != "" {
		u := h.srv.cfg.BaseURL
		resp.BaseURL = &u
	}
	out, err := resp.AppendJSON(make([]byte, 0, 256))
	st.unlock()
	if err != nil { // values are checked as they are read: cannot happen
		pol.log.ErrorContext(r.Context(), "gateway: encoding a Hrana response", "error", err)
		writeProtoError(w, http.StatusInternalServerError, "internal error: "+err.Error(), "INTERNAL")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// acquire returns the pipeline's stream, locked: a new one for a request
// without a baton, else the baton's.
func (h *hranaHandler) acquire(ctx context.Context, req *hrana.PipelineRequest, pol *policy) (*stream, *streamError) {
	if req.Baton == nil {
		st := &stream{owner: pol.principal, role: pol.role, lock: make(chan struct{}, 1), sqls: map[int32]string{}}
		st.lock <- struct{}{}
		transient := len(req.Requests) > 0 && req.Requests[len(req.Requests)-1].Type == hrana.TypeClose
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.closed {
			return nil, &streamError{http.StatusServiceUnavailable, "the gateway is shutting down", "SHUTTING_DOWN"}
		}
		h.nextID++
		st.id = h.nextID
		if !transient {
			// It will be kept: it needs a place, within the token's share,
			// so that one token cannot take every stream.
			if len(h.streams) >= h.srv.cfg.MaxStreams {
				return nil, &streamError{http.StatusServiceUnavailable, "too many open streams (at most " + strconv.Itoa(h.srv.cfg.MaxStreams) + "); close streams you no longer use", "TOO_MANY_STREAMS"}
			}
			if n := h.perToken[pol.principal]; n >= h.srv.cfg.MaxStreamsPerToken {
				return nil, &streamError{http.StatusTooManyRequests, "this token has " + strconv.Itoa(n) + " open streams, its most (--max-streams-per-token); close streams you no longer use", "TOO_MANY_STREAMS"}
			}
			h.streams[st.id] = st
			h.perToken[pol.principal]++
		}
		return st, nil
	}
	id, seq, ok := h.parseBaton(*req.Baton)
	if !ok {
		return nil, &streamError{http.StatusBadRequest, "invalid baton: it was not issued by this gateway", "BATON_INVALID"}
	}
	h.mu.Lock()
	st := h.streams[id]
	h.mu.Unlock()
	if st == nil {
		return nil, &streamError{http.StatusBadRequest, h.expiredMessage(), "STREAM_EXPIRED"}
	}
	// A stream runs one pipeline at a time; a client sends the next when
	// the last has answered, so waiting is short unless a statement runs
	// long: it is bounded by the statement timeout.
	wait := time.NewTimer(h.srv.cfg.StatementTimeout)
	defer wait.Stop()
	select {
	case st.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, &streamError{http.StatusServiceUnavailable, "the request ended while waiting for its stream", "STREAM_BUSY"}
	case <-wait.C:
		return nil, &streamError{http.StatusServiceUnavailable, "the stream is busy with another request (a stream runs one at a time); send the next request when the last has answered", "STREAM_BUSY"}
	}
	switch {
	case st.gone:
		st.unlock()
		return nil, &streamError{http.StatusBadRequest, h.expiredMessage(), "STREAM_EXPIRED"}
	case st.owner != pol.principal:
		st.unlock()
		return nil, &streamError{http.StatusBadRequest, "invalid baton: the stream belongs to another token", "BATON_INVALID"}
	case st.seq != seq:
		st.unlock()
		return nil, &streamError{http.StatusBadRequest, "this baton was already used: each response carries the baton for the next request", "BATON_REUSED"}
	}
	return st, nil
}

// forget removes a stream that ends with this request and releases its
// connection. The caller holds its lock.
func (h *hranaHandler) forget(st *stream) {
	h.mu.Lock()
	if h.streams[st.id] == st {
		h.remove(st.id, st)
	}
	h.mu.Unlock()
	st.gone = true
	h.release(st)
}

// memWait bounds how long a request waits for memory (503 SERVER_BUSY
// after).
const memWait = 10 * time.Second

// decodeCost estimates the memory a request body of n bytes holds once
// decoded and bound: the body, its values (a 64-byte hrana.Value for as
// little as 16 bytes of JSON) and their driver arguments.
func decodeCost(n int64) int64 { return 8*n + 4<<10 }

func (h *hranaHandler) expiredMessage() string {
	return "the stream expired or was closed (streams idle for " + h.idle.String() + ", or in a transaction for " +
		h.srv.cfg.MaxTransaction.String() + ", are closed and their transaction rolled back); start a new one"
}

// remove takes a stream out of the open ones. The caller holds h.mu.
func (h *hranaHandler) remove(id uint64, st *stream) {
	delete(h.streams, id)
	if n := h.perToken[st.owner] - 1; n > 0 {
		h.perToken[st.owner] = n
	} else {
		delete(h.perToken, st.owner)
	}
}

// countStatements counts the statements a pipeline may run.
func countStatements(req *hrana.PipelineRequest) int {
	n := 0
	for i := range req.Requests {
		q := &req.Requests[i]
		switch q.Type {
		case hrana.TypeExecute:
			n++
		case hrana.TypeBatch:
			n += len(q.Batch.Steps)
		case hrana.TypeSequence:
			if q.SQL != nil {
				parts, _ := splitSQLite(*q.SQL) // a script that does not split runs nothing
				n += max(len(parts), 1)
			} else {
				n++
			}
		}
	}
	return n
}

// resolveStatements replaces each "@name" of an allow-list by its SQL,
// and refuses raw SQL other than bare BEGIN, COMMIT and ROLLBACK.
func resolveStatements(req *hrana.PipelineRequest, list Statements) *streamError {
	check := func(p *string) *streamError {
		if p == nil {
			return nil
		}
		if sql, msg, ok := list.resolve(*p); ok {
			*p = sql
			return nil
		} else if parts, e := splitSQLite(*p); e == nil && len(parts) == 1 && txControl(parts[0]) != "" {
			return nil
		} else {
			return &streamError{http.StatusForbidden, msg, "STATEMENT_NOT_ALLOWED"}
		}
	}
	for i := range req.Requests {
		q := &req.Requests[i]
		if q.Stmt != nil {
			if se := check(q.Stmt.SQL); se != nil {
				return se
			}
		}
		if q.Batch != nil {
			for j := range q.Batch.Steps {
				if se := check(q.Batch.Steps[j].Stmt.SQL); se != nil {
					return se
				}
			}
		}
		if se := check(q.SQL); se != nil {
			return se
		}
	}
	return nil
}
