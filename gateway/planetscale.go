package gateway

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/forge-orm/forge/wire/jsonx"
	wire "github.com/forge-orm/forge/wire/planetscale"
	"github.com/go-sql-driver/mysql"
)

// psHandler serves PlanetScale's HTTP API (POST
// /psdb.v1alpha1.Database/Execute, /CreateSession, /CloseSession) on a
// MySQL or MariaDB database, inside a Server (which authenticates and
// sets the policy).
//
// A statement outside a transaction runs on a pooled connection of the
// token's pool, which goes back to the pool afterwards, or is closed when
// the statement may have left state on its session (see guardMySQL). BEGIN
// pins a connection to a new session, named by a random signature in the
// session object the client echoes; COMMIT and ROLLBACK end it. A session
// idle longer than StreamIdle, or in its transaction longer than
// MaxTransaction, is rolled back and closed; a request naming it then gets
// an error, never a silent autocommit.
type psHandler struct {
	s      *Server
	db     *sql.DB // write tokens
	readDB *sql.DB // read tokens (--read-dsn); nil: db, in READ ONLY transactions

	mu       sync.Mutex
	sessions map[string]*psSession
	closed   bool
	stop     chan struct{}
}

// psSession is a transaction pinned to a connection.
type psSession struct {
	id       string
	who      *principal
	conn     *sql.Conn
	readOnly bool
	sem      chan struct{} // held by the request in flight
	started  time.Time
	lastUsed time.Time // guarded by psHandler.mu
	taint    bool
	ended    bool       // guarded by sem
	set      psSettings // applied on conn
}

func newPSHandler(s *Server) *psHandler {
	h := &psHandler{s: s, db: s.cfg.MySQL, readDB: s.cfg.MySQLReadOnly, sessions: map[string]*psSession{}, stop: make(chan struct{})}
	go h.reap()
	return h
}

// open returns the number of sessions in a transaction.
func (h *psHandler) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// close rolls back every session.
func (h *psHandler) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.stop)
	list := make([]*psSession, 0, len(h.sessions))
	for id, ss := range h.sessions {
		list = append(list, ss)
		delete(h.sessions, id)
	}
	h.mu.Unlock()
	for _, ss := range list {
		ss.sem <- struct{}{}
		h.endSession(ss, false)
		<-ss.sem
	}
}

// reap ends the sessions idle longer than StreamIdle or in their
// transaction longer than MaxTransaction.
func (h *psHandler) reap() {
	tick := time.NewTicker(max(h.s.cfg.StreamIdle/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		now := time.Now()
		var expired []*psSession
		h.mu.Lock()
		for id, ss := range h.sessions {
			if now.Sub(ss.lastUsed) > h.s.cfg.StreamIdle || now.Sub(ss.started) > h.s.cfg.MaxTransaction {
				select {
				case ss.sem <- struct{}{}: // not busy
					delete(h.sessions, id)
					expired = append(expired, ss)
				default:
				}
			}
		}
		h.mu.Unlock()
		for _, ss := range expired {
			h.s.metrics.expired.Add(1)
			h.endSession(ss, false)
			<-ss.sem
		}
	}
}

// sessionJSON is the session object a response carries: the signature
// names a pinned session (empty outside a transaction); the settings are
// the session's sql_mode and time_zone, when it set them.
func sessionJSON(id string, set psSettings) []byte {
	in := id != ""
	b := append([]byte(`{"signature":`), jsonx.AppendString(nil, id)...)
	b = append(b, `,"vitessSession":{"autocommit":`...)
	b = strconv.AppendBool(b, !in)
	b = append(b, `,"inTransaction":`...)
	b = strconv.AppendBool(b, in)
	b = append(b, `,"options":{"includedFields":"ALL"}`...)
	if set.SQLMode != nil || set.TimeZone != nil || set.Isolation != nil {
		b = append(b, `,"systemVariables":{`...)
		sep := ""
		for _, kv := range []struct {
			k string
			v *string
		}{{"sql_mode", set.SQLMode}, {"time_zone", set.TimeZone}, {"transaction_isolation", set.Isolation}} {
			if kv.v != nil {
				b = append(b, sep+`"`+kv.k+`":`...)
				b = jsonx.AppendString(b, *kv.v)
				sep = ","
			}
		}
		b = append(b, '}')
	}
	return append(b, "}}"...)
}

type psClientSession struct {
	Signature     string `json:"signature"`
	VitessSession struct {
		InTransaction   bool       `json:"inTransaction"`
		SystemVariables psSettings `json:"systemVariables"`
	} `json:"vitessSession"`
}

// psSettings are the session variables a session may set and keep (as
// Vitess keeps them in its session): forge's planetscale driver sets both.
// The client echoes them, so they are checked again on every request.
//
// Isolation is the isolation level of the session's next transaction (SET
// TRANSACTION ISOLATION LEVEL outside a transaction): BEGIN applies it and
// clears it.
type psSettings struct {
	SQLMode   *string `json:"sql_mode,omitempty"`
	TimeZone  *string `json:"time_zone,omitempty"`
	Isolation *string `json:"transaction_isolation,omitempty"`
}

var psIsolationLevels = map[string]bool{"READ UNCOMMITTED": true, "READ COMMITTED": true, "REPEATABLE READ": true, "SERIALIZABLE": true}

func (s psSettings) empty() bool { return s.SQLMode == nil && s.TimeZone == nil }

// valid reports whether the settings are values the gateway writes into
// SET unquoted-safe: sql_mode a list of mode names, time_zone an offset.
func (s psSettings) valid() bool {
	if s.SQLMode != nil {
		if len(*s.SQLMode) > 512 {
			return false
		}
		for _, c := range []byte(*s.SQLMode) {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == ',') {
				return false
			}
		}
	}
	if s.Isolation != nil && !psIsolationLevels[*s.Isolation] {
		return false
	}
	if s.TimeZone != nil {
		tz := *s.TimeZone
		if !(len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && isDigits(tz[1:3]) && tz[3] == ':' && isDigits(tz[4:])) {
			return false
		}
	}
	return true
}

// merge returns s with the values that o sets.
func (s psSettings) merge(o psSettings) psSettings {
	if o.SQLMode != nil {
		s.SQLMode = o.SQLMode
	}
	if o.TimeZone != nil {
		s.TimeZone = o.TimeZone
	}
	if o.Isolation != nil {
		s.Isolation = o.Isolation
	}
	return s
}

// sql returns the SET statement that applies the settings.
func (s psSettings) sql() string {
	q := "SET SESSION "
	if s.SQLMode != nil {
		q += "sql_mode = '" + *s.SQLMode + "'"
	}
	if s.TimeZone != nil {
		if s.SQLMode != nil {
			q += ", "
		}
		q += "time_zone = '" + *s.TimeZone + "'"
	}
	return q
}

// psResetSettings puts a pooled connection's settings back.
const psResetSettings = "SET SESSION sql_mode = @@GLOBAL.sql_mode, time_zone = '+00:00'"

// psSettingsRe matches the one SET statement a session may send:
// SET [SESSION] sql_mode = '...', time_zone = '...' (either or both).
var psSettingsRe = regexp.MustCompile(`(?is)^\s*SET\s+(?:SESSION\s+)?(sql_mode|time_zone)\s*=\s*'([^'\\]*)'\s*(?:,\s*(sql_mode|time_zone)\s*=\s*'([^'\\]*)'\s*)?;?\s*$`)

// psIsolationRe matches SET TRANSACTION ISOLATION LEVEL (the next
// transaction's).
var psIsolationRe = regexp.MustCompile(`(?is)^\s*SET\s+TRANSACTION\s+ISOLATION\s+LEVEL\s+(READ\s+UNCOMMITTED|READ\s+COMMITTED|REPEATABLE\s+READ|SERIALIZABLE)\s*;?\s*$`)

// parseSettings reads a settings statement; ok is false for any other.
func parseSettings(sql string) (psSettings, bool) {
	if m := psIsolationRe.FindStringSubmatch(sql); m != nil {
		level := strings.ToUpper(strings.Join(strings.Fields(m[1]), " "))
		return psSettings{Isolation: &level}, true
	}
	m := psSettingsRe.FindStringSubmatch(sql)
	if m == nil {
		return psSettings{}, false
	}
	var s psSettings
	for i := 1; i+1 < len(m); i += 2 {
		v := m[i+1]
		switch strings.ToLower(m[i]) {
		case "sql_mode":
			s.SQLMode = &v
		case "time_zone":
			s.TimeZone = &v
		}
	}
	return s, true
}

// psReply is an answer to Execute.
type psReply struct {
	session string     // the pinned session's id, or ""
	set     psSettings // the session's settings
	result  []byte     // the result object, or nil
	code    string     // the error's code, when result is nil
	msg     string
	timing  time.Duration
}

func (r *psReply) body() []byte {
	b := append([]byte(`{"session":`), sessionJSON(r.session, r.set)...)
	if r.result != nil {
		b = append(b, `,"result":`...)
		b = append(b, r.result...)
	} else {
		b = append(b, `,"error":{"code":`...)
		b = jsonx.AppendString(b, r.code)
		b = append(b, `,"message":`...)
		b = jsonx.AppendString(b, r.msg)
		b = append(b, '}')
	}
	b = append(b, `,"timing":`...)
	b = strconv.AppendFloat(b, r.timing.Seconds(), 'g', -1, 64)
	return append(b, '}')
}

func psFail(session, code, msg string) *psReply {
	return &psReply{session: session, code: code, msg: msg}
}

// writePSError writes the protocol's error body, {"error": {code,
// message}}, with an HTTP status.
func writePSError(w http.ResponseWriter, status int, code, msg string) {
	b := append([]byte(`{"error":{"code":`), jsonx.AppendString(nil, code)...)
	b = append(b, `,"message":`...)
	b = jsonx.AppendString(b, msg)
	b = append(b, "}}"...)
	noteErrorCode(w, code)
	writeJSON(w, status, b)
}

func (h *psHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writePSError(w, http.StatusMethodNotAllowed, "UNIMPLEMENTED", "method "+r.Method+" is not allowed: send a POST")
		return
	}
	pol := policyFrom(r.Context())
	body, he := readBody(w, r, h.s.cfg.MaxBodyBytes)
	if he != nil {
		writePSError(w, he.status, "RESOURCE_EXHAUSTED", he.body.Message)
		return
	}
	switch r.URL.Path {
	case wire.PathCreateSession:
		b := append([]byte(`{"branch":"main","user":{"username":`), jsonx.AppendString(nil, pol.principal.name)...)
		b = append(b, `},"session":`...)
		b = append(b, sessionJSON("", psSettings{})...)
		writeJSON(w, http.StatusOK, append(b, '}'))
		return
	case wire.PathCloseSession:
		var req struct {
			Session json.RawMessage `json:"session"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writePSError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid request: want {\"session\": {...}}")
			return
		}
		if ss, _ := h.lookup(req.Session, pol.principal); ss != nil {
			h.end(ss, false)
		}
		writeJSON(w, http.StatusOK, []byte(`{"session":null}`))
		return
	case wire.PathExecute:
	default:
		writePSError(w, http.StatusNotFound, "NOT_FOUND", "not found: PlanetScale's API is POST "+wire.PathExecute+", "+wire.PathCreateSession+" and "+wire.PathCloseSession)
		return
	}
	var req wire.Request
	if err := json.Unmarshal(body, &req); err != nil || req.Query == "" {
		writePSError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid request: want {\"query\": \"<SQL>\", \"session\": <the last session or null>}")
		return
	}
	if pol.statements != nil && !psProtocolStatement(req.Query) {
		sql, msg, ok := pol.statements.resolve(req.Query)
		if !ok {
			writePSError(w, http.StatusForbidden, "PERMISSION_DENIED", msg)
			return
		}
		req.Query = sql
	}
	start := time.Now()
	rep, status := h.execute(r.Context(), pol, &req)
	rep.timing = time.Since(start)
	if rep.result == nil {
		h.s.metrics.error("planetscale", rep.code)
		if status != http.StatusOK {
			if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			noteErrorCode(w, rep.code)
		}
	}
	writeJSON(w, status, rep.body())
}

// psProtocolStatement reports whether sql is one the protocol itself
// needs, which allow-list mode runs without a name: BEGIN, START
// TRANSACTION, COMMIT, ROLLBACK and the session settings.
func psProtocolStatement(sql string) bool {
	if _, ok := parseSettings(sql); ok {
		return true
	}
	st, ref := guardMySQL(sql, true)
	return ref == nil && st.tx != myTxNone
}

// lookup finds the pinned session a client's session object names, for
// principal who. It returns (nil, true) for a session outside a
// transaction, and (nil, false) for one that claims a transaction the
// gateway does not hold (ended, expired, forged or another token's).
func (h *psHandler) lookup(raw json.RawMessage, who *principal) (*psSession, bool) {
	ss, _, ok := h.lookupSettings(raw, who)
	return ss, ok
}

// lookupSettings is lookup that also returns the settings a session
// outside a transaction carries (checked: a forged value is dropped).
func (h *psHandler) lookupSettings(raw json.RawMessage, who *principal) (*psSession, psSettings, bool) {
	var cs psClientSession
	if len(raw) == 0 || string(raw) == "null" || json.Unmarshal(raw, &cs) != nil {
		return nil, psSettings{}, true
	}
	if !cs.VitessSession.InTransaction {
		set := cs.VitessSession.SystemVariables
		if !set.valid() {
			set = psSettings{}
		}
		return nil, set, true
	}
	ss, ok := h.pinned(cs.Signature, who)
	return ss, psSettings{}, ok
}

func (h *psHandler) pinned(id string, who *principal) (*psSession, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ss := h.sessions[id]
	if ss == nil || ss.who != who {
		return nil, false
	}
	now := time.Now()
	if now.Sub(ss.lastUsed) > h.s.cfg.StreamIdle || now.Sub(ss.started) > h.s.cfg.MaxTransaction {
		// Expired, whether or not the reaper has come by yet.
		return nil, false
	}
	ss.lastUsed = now
	return ss, true
}

// execute runs one Execute request and returns its reply and HTTP status.
func (h *psHandler) execute(ctx context.Context, pol *policy, req *wire.Request) (*psReply, int) {
	read := pol.role == RoleRead
	ss, set, ok := h.lookupSettings(req.Session, pol.principal)
	if !ok {
		return psFail("", "ABORTED", "the session's transaction has ended (it was idle longer than "+h.s.cfg.StreamIdle.String()+
			" or open longer than "+h.s.cfg.MaxTransaction.String()+", or the gateway restarted) and was rolled back; nothing of it was committed"), http.StatusOK
	}
	if newSet, isSet := parseSettings(req.Query); isSet {
		if !newSet.valid() {
			return &psReply{set: set, code: "INVALID_ARGUMENT", msg: "this gateway keeps sql_mode (a list of mode names) and time_zone (an offset such as '+00:00') in the session; other values or variables are refused"}, http.StatusBadRequest
		}
		if ss == nil {
			// Kept in the session and applied to each statement's
			// connection; nothing runs now.
			return &psReply{set: set.merge(newSet), result: []byte("{}")}, http.StatusOK
		}
	}
	var st myStmt
	if _, isSet := parseSettings(req.Query); isSet {
		st = myStmt{taint: true}
	} else {
		var ref *myRefusal
		if st, ref = guardMySQL(req.Query, read); ref != nil {
			status := http.StatusForbidden
			if ref.code == "INVALID_ARGUMENT" {
				status = http.StatusBadRequest
			}
			id := ""
			if ss != nil {
				id, set = ss.id, ss.set
			}
			return &psReply{session: id, set: set, code: ref.code, msg: ref.msg}, status
		}
	}
	if ss == nil {
		switch st.tx {
		case myTxCommit, myTxRollback:
			return &psReply{set: set, result: []byte("{}")}, http.StatusOK // MySQL: nothing to end
		case myTxBegin, myTxBeginReadOnly:
			return h.begin(ctx, pol, st.tx == myTxBeginReadOnly || read, set)
		}
		rep, status := h.single(ctx, pol, req.Query, st, set)
		rep.set = set
		return rep, status
	}
	select {
	case ss.sem <- struct{}{}:
	default:
		return &psReply{session: ss.id, set: ss.set, code: "FAILED_PRECONDITION", msg: "another request of this session is running: a session runs one statement at a time"}, http.StatusConflict
	}
	defer func() { <-ss.sem }()
	if ss.ended {
		return psFail("", "ABORTED", "the session's transaction has ended and was rolled back; nothing of it was committed"), http.StatusOK
	}
	fail := func(code, msg string) (*psReply, int) {
		return &psReply{session: ss.id, set: ss.set, code: code, msg: msg}, http.StatusOK
	}
	switch st.tx {
	case myTxBegin, myTxBeginReadOnly:
		return fail("FAILED_PRECONDITION", "the session is already in a transaction: COMMIT or ROLLBACK it first")
	case myTxCommit, myTxRollback:
		stmt := "COMMIT"
		if st.tx == myTxRollback {
			stmt = "ROLLBACK"
		}
		h.forget(ss)
		_, err := ss.conn.ExecContext(ctx, stmt)
		h.endSession(ss, err == nil)
		if err != nil {
			code, msg := mysqlError(ctx, err)
			return &psReply{set: ss.set, code: code, msg: stmt + " failed, the transaction was rolled back: " + msg}, http.StatusOK
		}
		return &psReply{set: ss.set, result: []byte("{}")}, http.StatusOK
	}
	if newSet, isSet := parseSettings(req.Query); isSet {
		if newSet.Isolation != nil {
			return fail("FAILED_PRECONDITION", "the isolation level cannot change in a transaction: SET TRANSACTION ISOLATION LEVEL before BEGIN")
		}
		if _, err := ss.conn.ExecContext(ctx, newSet.sql()); err != nil {
			code, msg := mysqlError(ctx, err)
			return fail(code, msg)
		}
		ss.set = ss.set.merge(newSet)
		return &psReply{session: ss.id, set: ss.set, result: []byte("{}")}, http.StatusOK
	}
	if st.taint {
		ss.taint = true
	}
	res, err := h.run(ctx, ss.conn, req.Query, st)
	if err != nil {
		code, msg := mysqlError(ctx, err)
		if endsTransaction(err) {
			// A deadlock, a lock wait timeout or a broken connection
			// ended the transaction: so does the session.
			h.end(ss, true)
			return &psReply{set: ss.set, code: code, msg: msg + " (the transaction was rolled back)"}, http.StatusOK
		}
		return fail(code, msg)
	}
	return &psReply{session: ss.id, set: ss.set, result: res}, http.StatusOK
}

// endsTransaction reports whether err ended the transaction it happened
// in: MySQL rolls back on a deadlock (1213); a lock wait timeout (1205)
// may; a connection that failed lost it.
func endsTransaction(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205 || me.Number == 1927 || me.Number == 2013
	}
	return true
}

// acquire takes the token's share and a connection of the token's pool.
func (h *psHandler) acquire(ctx context.Context, who *principal, read bool) (*sql.Conn, *psReply, int) {
	deadline := time.Now().Add(h.s.cfg.AcquireTimeout)
	if he := waitSlot(ctx, who.my, deadline); he != nil {
		if he.status == http.StatusTooManyRequests {
			return nil, psFail("", "RESOURCE_EXHAUSTED", "token \""+who.name+"\" already holds its share of the MySQL connections ("+
				strconv.Itoa(cap(who.my))+", open transactions included) and none was freed within "+h.s.cfg.AcquireTimeout.String()+"; retry later"), http.StatusTooManyRequests
		}
		return nil, psFail("", "CANCELED", "the request ended: "+ctx.Err().Error()), http.StatusOK
	}
	db := h.db
	if read && h.readDB != nil {
		db = h.readDB
	}
	actx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := db.Conn(actx)
	if err != nil {
		<-who.my
		if ctx.Err() == nil && actx.Err() != nil {
			return nil, psFail("", "UNAVAILABLE", "no MySQL connection was free within "+h.s.cfg.AcquireTimeout.String()+"; retry later"), http.StatusServiceUnavailable
		}
		h.s.log.WarnContext(ctx, "gateway: cannot reach MySQL", "error", err)
		return nil, psFail("", "UNAVAILABLE", "the database is unavailable; retry later"), http.StatusServiceUnavailable
	}
	return conn, nil, 0
}

// release returns a connection to its pool, or closes it when it may hold
// session state (taint) or an open transaction (dirty), and gives back the
// token's share.
func (h *psHandler) release(who *principal, conn *sql.Conn, discard bool) {
	if discard {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = conn.Close()
	<-who.my
}

// single runs one statement outside a transaction.
func (h *psHandler) single(ctx context.Context, pol *policy, query string, st myStmt, set psSettings) (*psReply, int) {
	read := pol.role == RoleRead
	conn, fail, status := h.acquire(ctx, pol.principal, read)
	if fail != nil {
		return fail, status
	}
	// Without a read-only pool, a read token's statement runs in a READ
	// ONLY transaction of the --db user.
	wrap := read && h.readDB == nil
	ok := true
	defer func() {
		if ok && !st.taint && !set.empty() {
			_, err := conn.ExecContext(context.WithoutCancel(ctx), psResetSettings)
			ok = err == nil
		}
		h.release(pol.principal, conn, st.taint || !ok)
	}()
	if !set.empty() {
		if _, err := conn.ExecContext(ctx, set.sql()); err != nil {
			ok = false
			code, msg := mysqlError(ctx, err)
			return psFail("", code, msg), http.StatusOK
		}
	}
	if wrap {
		if _, err := conn.ExecContext(ctx, "START TRANSACTION READ ONLY"); err != nil {
			ok = false
			code, msg := mysqlError(ctx, err)
			return psFail("", code, msg), http.StatusOK
		}
	}
	res, err := h.run(ctx, conn, query, st)
	if wrap {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			ok = false
		}
	}
	if err != nil {
		var me *mysql.MySQLError
		if !errors.As(err, &me) {
			ok = false
		}
		code, msg := mysqlError(ctx, err)
		return psFail("", code, msg), http.StatusOK
	}
	return &psReply{result: res}, http.StatusOK
}

// begin pins a connection to a new session and starts its transaction.
func (h *psHandler) begin(ctx context.Context, pol *policy, readOnly bool, set psSettings) (*psReply, int) {
	conn, fail, status := h.acquire(ctx, pol.principal, pol.role == RoleRead)
	if fail != nil {
		return fail, status
	}
	stmt := "START TRANSACTION"
	if readOnly {
		stmt += " READ ONLY"
	}
	var err error
	if !set.empty() {
		_, err = conn.ExecContext(ctx, set.sql())
	}
	if err == nil && set.Isolation != nil {
		// The next transaction's level only: nothing outlives it.
		_, err = conn.ExecContext(ctx, "SET TRANSACTION ISOLATION LEVEL "+*set.Isolation)
	}
	set.Isolation = nil
	if err == nil {
		_, err = conn.ExecContext(ctx, stmt)
	}
	if err != nil {
		h.release(pol.principal, conn, true)
		code, msg := mysqlError(ctx, err)
		return psFail("", code, msg), http.StatusOK
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	now := time.Now()
	ss := &psSession{id: hex.EncodeToString(id[:]), who: pol.principal, conn: conn, readOnly: readOnly,
		sem: make(chan struct{}, 1), started: now, lastUsed: now, set: set}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.release(pol.principal, conn, true)
		return psFail("", "UNAVAILABLE", "the gateway is shutting down"), http.StatusServiceUnavailable
	}
	h.sessions[ss.id] = ss
	h.mu.Unlock()
	return &psReply{session: ss.id, set: set, result: []byte("{}")}, http.StatusOK
}

// forget removes a session from the table.
func (h *psHandler) forget(ss *psSession) {
	h.mu.Lock()
	if h.sessions[ss.id] == ss {
		delete(h.sessions, ss.id)
	}
	h.mu.Unlock()
}

// end forgets a session and rolls it back; the caller holds ss.sem when
// held is true.
func (h *psHandler) end(ss *psSession, held bool) {
	h.forget(ss)
	if !held {
		ss.sem <- struct{}{}
		defer func() { <-ss.sem }()
	}
	h.endSession(ss, false)
}

// endSession releases a session's connection: to the pool after a
// successful COMMIT or ROLLBACK (clean), else after a ROLLBACK, or closed
// when that fails or the session may hold state. The caller holds ss.sem.
func (h *psHandler) endSession(ss *psSession, clean bool) {
	if ss.ended {
		return
	}
	ss.ended = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !clean {
		_, err := ss.conn.ExecContext(ctx, "ROLLBACK")
		clean = err == nil
	}
	if clean && !ss.taint && !ss.set.empty() {
		_, err := ss.conn.ExecContext(ctx, psResetSettings)
		clean = err == nil
	}
	h.release(ss.who, ss.conn, ss.taint || !clean)
}

// run runs one statement on conn and returns the result object.
func (h *psHandler) run(ctx context.Context, conn *sql.Conn, query string, st myStmt) ([]byte, error) {
	cfg := &h.s.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.StatementTimeout+time.Second)
	defer cancel()
	if !st.rows {
		res, err := conn.ExecContext(ctx, query)
		if err != nil {
			return nil, err
		}
		n, _ := res.RowsAffected()
		id, _ := res.LastInsertId()
		b := []byte(`{`)
		if n > 0 {
			b = append(b, `"rowsAffected":"`...)
			b = strconv.AppendUint(b, uint64(n), 10)
			b = append(b, '"')
		}
		if id != 0 {
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, `"insertId":"`...)
			b = strconv.AppendUint(b, uint64(id), 10)
			b = append(b, '"')
		}
		return append(b, '}'), nil
	}
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	b := []byte(`{"fields":[`)
	for i, t := range types {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, t)
	}
	b = append(b, `],"rows":[`...)
	raw := make([]sql.RawBytes, len(types))
	dest := make([]any, len(types))
	for i := range raw {
		dest[i] = &raw[i]
	}
	cells := make([][]byte, len(types))
	n := 0
	for rows.Next() {
		if n == cfg.MaxRows {
			return nil, &psLimitError{"the statement returns more than " + strconv.Itoa(cfg.MaxRows) + " rows, the most this gateway sends; add a LIMIT"}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		for i, c := range raw {
			cells[i] = c
			if c == nil {
				cells[i] = nil
			} else if len(c) == 0 {
				cells[i] = []byte{}
			}
		}
		if len(b)+wire.RowSize(cells) > cfg.MaxResponseBytes {
			return nil, &psLimitError{"the result is larger than " + strconv.Itoa(cfg.MaxResponseBytes) + " bytes, the most this gateway sends; select fewer rows or columns"}
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = wire.AppendRow(b, cells)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	b = append(b, `],"rowsAffected":"`...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, `"}`...), nil
}

// psLimitError reports a result beyond the gateway's limits.
type psLimitError struct{ msg string }

func (e *psLimitError) Error() string { return e.msg }

// appendField appends a column's Field: its Vitess type from the MySQL
// type, the binary charset (63) for binary strings, numbers and times.
func appendField(b []byte, t *sql.ColumnType) []byte {
	typ, charset := vitessType(t.DatabaseTypeName())
	b = append(b, `{"name":`...)
	b = jsonx.AppendString(b, t.Name())
	if typ != "NULL" {
		b = append(b, `,"type":"`...)
		b = append(b, typ...)
		b = append(b, '"')
	}
	b = append(b, `,"charset":`...)
	b = strconv.AppendInt(b, int64(charset), 10)
	if typ == "DECIMAL" {
		if _, scale, ok := t.DecimalSize(); ok {
			b = append(b, `,"decimals":`...)
			b = strconv.AppendInt(b, scale, 10)
		}
	}
	return append(b, '}')
}

// vitessType maps go-sql-driver's type names to Vitess's.
func vitessType(name string) (string, int) {
	const bin, utf8 = wire.BinaryCharset, 255
	switch name {
	case "TINYINT":
		return "INT8", bin
	case "UNSIGNED TINYINT":
		return "UINT8", bin
	case "SMALLINT":
		return "INT16", bin
	case "UNSIGNED SMALLINT":
		return "UINT16", bin
	case "MEDIUMINT":
		return "INT24", bin
	case "UNSIGNED MEDIUMINT":
		return "UINT24", bin
	case "INT":
		return "INT32", bin
	case "UNSIGNED INT":
		return "UINT32", bin
	case "BIGINT":
		return "INT64", bin
	case "UNSIGNED BIGINT":
		return "UINT64", bin
	case "FLOAT":
		return "FLOAT32", bin
	case "DOUBLE":
		return "FLOAT64", bin
	case "DECIMAL":
		return "DECIMAL", bin
	case "YEAR":
		return "YEAR", bin
	case "DATE", "DATETIME", "TIMESTAMP", "TIME":
		return name, bin
	case "BIT":
		return "BIT", bin
	case "JSON":
		return "JSON", bin
	case "GEOMETRY":
		return "GEOMETRY", bin
	case "VECTOR":
		return "VECTOR", bin
	case "NULL":
		return "NULL", bin
	case "BINARY":
		return "BINARY", bin
	case "VARBINARY":
		return "VARBINARY", bin
	case "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB":
		return "BLOB", bin
	case "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT":
		return "TEXT", utf8
	case "CHAR":
		return "CHAR", utf8
	case "ENUM":
		return "ENUM", utf8
	case "SET":
		return "SET", utf8
	}
	return "VARCHAR", utf8
}

// mysqlError turns an error from running a statement into the protocol's
// code and message: a MySQL error keeps its text, number and SQLSTATE
// ("... (errno 1062) (sqlstate 23000)"), which clients read.
func mysqlError(ctx context.Context, err error) (string, string) {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		state := string(me.SQLState[:])
		if me.SQLState == [5]byte{} {
			state = "HY000"
		}
		return wire.CodeFor(int(me.Number)), wire.MySQLMessage(me.Message, int(me.Number), state)
	}
	var le *psLimitError
	if errors.As(err, &le) {
		return "RESOURCE_EXHAUSTED", le.msg
	}
	if ctx.Err() != nil {
		return "CANCELED", "the request ended before the statement finished: " + ctx.Err().Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "DEADLINE_EXCEEDED", "the statement ran longer than the gateway's statement timeout and was stopped"
	}
	return "UNAVAILABLE", "the database connection failed: " + err.Error()
}
