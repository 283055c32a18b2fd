package gateway_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/wire/hrana"
)

// TestAuth checks tokens on every path but /healthz, for both protocols,
// and the 501 of a protocol whose database is not configured.
func TestAuth(t *testing.T) {
	pool, _ := openPool(t, "")
	_, pgOnly := startServer(t, gateway.Config{Postgres: pool})
	sqliteOnly := sqliteServer(t, gateway.Config{})
	neonBody := `{"query":"SELECT 1","params":[]}`
	hranaBody := `{"requests":[{"type":"execute","stmt":{"sql":"SELECT 1"}},{"type":"close"}]}`
	for _, tc := range []struct {
		name, url, path, auth, body string
		status                      int
		code                        string
	}{
		{"neon, no token", pgOnly, "/sql", "", neonBody, 401, "UNAUTHORIZED"},
		{"neon, wrong token", pgOnly, "/sql", "Bearer nope", neonBody, 401, "UNAUTHORIZED"},
		{"neon, a token's prefix", pgOnly, "/sql", "Bearer " + writeSecret[:10], neonBody, 401, "UNAUTHORIZED"},
		{"neon, not bearer", pgOnly, "/sql", "Basic " + writeSecret, neonBody, 401, "UNAUTHORIZED"},
		{"neon, lower-case scheme", pgOnly, "/sql", "bearer " + writeSecret, neonBody, 200, ""},
		{"hrana, no token", sqliteOnly, "/v2/pipeline", "", hranaBody, 401, "UNAUTHORIZED"},
		{"hrana, wrong token", sqliteOnly, "/v3/pipeline", "Bearer " + writeSecret + "x", hranaBody, 401, "UNAUTHORIZED"},
		{"hrana v3", sqliteOnly, "/v3/pipeline", "Bearer " + writeSecret, hranaBody, 200, ""},
		{"hrana under a path", sqliteOnly, "/db/main/v2/pipeline", "Bearer " + writeSecret, hranaBody, 200, ""},
		{"neon not configured", sqliteOnly, "/sql", "Bearer " + writeSecret, neonBody, 501, "NOT_CONFIGURED"},
		{"hrana not configured", pgOnly, "/v2/pipeline", "Bearer " + writeSecret, hranaBody, 501, "NOT_CONFIGURED"},
		{"metrics without a token", pgOnly, "/metrics", "", "", 401, "UNAUTHORIZED"},
		{"unknown path", pgOnly, "/admin", "Bearer " + writeSecret, "", 404, "NOT_FOUND"},
		{"v3-protobuf probe", sqliteOnly, "/v3-protobuf", "", "", 404, "NOT_FOUND"},
	} {
		method := http.MethodPost
		if tc.body == "" {
			method = http.MethodGet
		}
		r := do(t, method, tc.url+tc.path, "", tc.body, map[string]string{"Authorization": tc.auth})
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
			continue
		}
		if tc.code != "" {
			if _, code := protoError(t, r); code != tc.code {
				t.Errorf("%s: code %s, want %s", tc.name, code, tc.code)
			}
		}
		if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", tc.name)
		}
	}
	for _, url := range []string{pgOnly, sqliteOnly} {
		if r := do(t, http.MethodGet, url+"/healthz", "", "", nil); r.status != 200 || string(r.body) != `{"status":"ok"}` {
			t.Errorf("healthz: %d %s", r.status, r.body)
		}
	}
	// hrana-client's version probe carries no token.
	if r := do(t, http.MethodGet, sqliteOnly+"/v2", "", "", nil); r.status != 200 {
		t.Errorf("GET /v2: %d", r.status)
	}
	// Bad configurations.
	if _, err := gateway.NewServer(gateway.Config{Postgres: pool}); err == nil {
		t.Error("a server without tokens")
	}
	if _, err := gateway.NewServer(gateway.Config{Tokens: testTokens()}); err == nil {
		t.Error("a server without a database")
	}
	if _, err := gateway.NewServer(gateway.Config{Postgres: pool, Tokens: []gateway.Token{{Name: "a", Secret: "x", Role: gateway.RoleRead}, {Name: "b", Secret: "x", Role: gateway.RoleWrite}}}); err == nil {
		t.Error("two tokens with one secret")
	}
}

// TestLimitsNeon checks each limit's answer on Neon's protocol.
func TestLimitsNeon(t *testing.T) {
	pool, _ := openPool(t, "")
	mustExec(t, pool, `CREATE TABLE t (id int PRIMARY KEY)`)
	_, url := startServer(t, gateway.Config{Postgres: pool, MaxBodyBytes: 1000, MaxStatements: 3, MaxRows: 5,
		StatementTimeout: 300 * time.Millisecond, MaxConcurrent: 1})
	check := func(name string, r *response, status int, code string) {
		t.Helper()
		if r.status != status {
			t.Errorf("%s: status %d, want %d: %s", name, r.status, status, r.body)
			return
		}
		if _, c := protoError(t, r); c != code {
			t.Errorf("%s: code %s, want %s: %s", name, c, code, r.body)
		}
	}
	check("body", neonPost(t, url, writeSecret, `{"query":"SELECT '`+strings.Repeat("x", 1000)+`'","params":[]}`, nil), 413, "REQUEST_TOO_LARGE")
	check("statements", neonPost(t, url, writeSecret, `{"queries":[`+strings.Repeat(`{"query":"SELECT 1","params":[]},`, 3)+`{"query":"SELECT 1","params":[]}]}`, nil), 400, "54000")
	check("rows", neonPost(t, url, writeSecret, `{"query":"SELECT generate_series(1, 6)","params":[]}`, nil), 400, "54000")
	if r := neonPost(t, url, writeSecret, `{"query":"SELECT generate_series(1, 5)","params":[]}`, nil); r.status != 200 {
		t.Errorf("5 rows: %d %s", r.status, r.body)
	}
	check("rows in a transaction", neonPost(t, url, writeSecret, `{"queries":[{"query":"INSERT INTO t VALUES (1)","params":[]},{"query":"SELECT generate_series(1, 6)","params":[]}]}`, nil), 400, "54000")
	if n := count(t, pool, "t"); n != 0 {
		t.Errorf("a transaction over the rows limit left %d rows", n)
	}
	start := time.Now()
	check("timeout", neonPost(t, url, writeSecret, `{"query":"SELECT pg_sleep(5)","params":[]}`, nil), 400, "57014")
	check("timeout in a transaction", neonPost(t, url, writeSecret, `{"queries":[{"query":"SELECT pg_sleep(5)","params":[]}]}`, nil), 400, "57014")
	check("timeout, read token", neonPost(t, url, readSecret, `{"query":"SELECT pg_sleep(5)","params":[]}`, nil), 400, "57014")
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("three timed-out statements took %v", d)
	}
	// Concurrency: a second request of the same token while one runs is 429;
	// another token is not affected.
	// (Slow requests are sent until a quick one was refused, so that the
	// test does not depend on which of the two gets the slot first.)
	got429, slowOK := concurrently(t,
		func() int {
			return neonPost(t, url, writeSecret, `{"query":"SELECT pg_sleep(0.25)","params":[]}`, nil).status
		},
		func() *response {
			r := neonPost(t, url, writeSecret, `{"query":"SELECT 1","params":[]}`, nil)
			if r.status == 429 {
				if o := neonPost(t, url, otherSecret, `{"query":"SELECT 1","params":[]}`, nil); o.status != 200 {
					t.Errorf("another token while one is at its limit: %d", o.status)
				}
			}
			return r
		})
	if !got429 || !slowOK {
		t.Errorf("no 429 while a request ran (429 seen: %v, a slow request succeeded: %v)", got429, slowOK)
	}
	if r := neonPost(t, url, writeSecret, `{"query":"SELECT 1","params":[]}`, nil); r.status != 200 {
		t.Errorf("after the slow request: %d", r.status)
	}
}

// TestLimitsHrana checks each limit's answer on Hrana.
func TestLimitsHrana(t *testing.T) {
	url := sqliteServer(t, gateway.Config{MaxBodyBytes: 3000, MaxStatements: 3, MaxRows: 5, MaxResponseBytes: 4000,
		StatementTimeout: 300 * time.Millisecond, MaxConcurrent: 1, MaxStreams: 2, MaxStreamsPerToken: 3})
	c := &hc{t: t, url: url, token: writeSecret}
	c.mustExec(`CREATE TABLE t (id INTEGER PRIMARY KEY)`)
	_, r := c.post(nil, hrana.ExecuteRequest(hrana.NewStmt("SELECT '"+strings.Repeat("x", 3000)+"'", nil, true)))
	if _, code := protoError(t, r); r.status != 413 || code != "REQUEST_TOO_LARGE" {
		t.Errorf("body: %d %s", r.status, r.body)
	}
	stmt := hrana.ExecuteRequest(hrana.NewStmt("SELECT 1", nil, true))
	_, r = c.post(nil, stmt, stmt, hrana.BatchRequest(hrana.BatchStep{Stmt: hrana.NewStmt("SELECT 1", nil, true)}, hrana.BatchStep{Stmt: hrana.NewStmt("SELECT 1", nil, true)}))
	if _, code := protoError(t, r); r.status != 400 || code != "TOO_MANY_STATEMENTS" {
		t.Errorf("statements: %d %s", r.status, r.body)
	}
	_, r = c.post(nil, hrana.SequenceRequest("SELECT 1; SELECT 2; SELECT 3; SELECT 4"))
	if _, code := protoError(t, r); r.status != 400 || code != "TOO_MANY_STATEMENTS" {
		t.Errorf("statements in a sequence: %d %s", r.status, r.body)
	}
	if _, e := c.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 6) SELECT i FROM n`); e == nil || e.Code != "ROWS_LIMIT_EXCEEDED" {
		t.Errorf("rows: %v", e)
	}
	if r := c.mustExec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 5) SELECT i FROM n`); len(r.Rows) != 5 {
		t.Errorf("5 rows: %d", len(r.Rows))
	}
	if _, e := c.exec(`SELECT ?, ?, ?`, hrana.TextValue(strings.Repeat("a", 600)), hrana.TextValue(strings.Repeat("b", 600)), hrana.TextValue(strings.Repeat("c", 600))); e != nil {
		t.Errorf("under the response limit: %v", e)
	}
	resp := c.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 4) SELECT printf('%.1000c', 'x') FROM n`, nil, true)), hrana.CloseRequest())
	if e := resp.Results[0].Error; e == nil || e.Code != "RESPONSE_TOO_LARGE" {
		t.Errorf("response: %s", jsonOf(resp.Results[0]))
	}
	start := time.Now()
	_, e := c.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n`)
	if e == nil || e.Code != "SQLITE_INTERRUPT" || !strings.Contains(e.Message, "statement timeout") || time.Since(start) > 3*time.Second {
		t.Errorf("timeout: %v after %v", e, time.Since(start))
	}
	// A timed-out write in a batch leaves nothing.
	resp = c.must(nil, hrana.BatchRequest(hrana.BatchStep{Stmt: hrana.NewStmt("BEGIN IMMEDIATE", nil, false)},
		hrana.BatchStep{Condition: ptr(hrana.CondOK(0)), Stmt: hrana.NewStmt(`INSERT INTO t SELECT i FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n)`, nil, false)},
		hrana.BatchStep{Condition: ptr(hrana.CondOK(1)), Stmt: hrana.NewStmt("COMMIT", nil, false)}), hrana.CloseRequest())
	if b := resp.Results[0].Response.Batch; b.StepErrors[1] == nil || b.StepErrors[1].Code != "SQLITE_INTERRUPT" {
		t.Errorf("timed-out write: %s", jsonOf(resp.Results[0]))
	}
	if n := c.scalar(`SELECT count(*) FROM t`); n.Int != 0 {
		t.Errorf("a timed-out write left %d rows", n.Int)
	}
	// Streams: at most two open at once.
	var batons []*string
	for i := range 3 {
		resp, r := c.post(nil, hrana.ExecuteRequest(hrana.NewStmt("SELECT 1", nil, true)))
		if i < 2 {
			if resp == nil || resp.Baton == nil {
				t.Fatalf("stream %d: %d %s", i, r.status, r.body)
			}
			batons = append(batons, resp.Baton)
			continue
		}
		if _, code := protoError(t, r); r.status != 503 || code != "TOO_MANY_STREAMS" {
			t.Errorf("third stream: %d %s", r.status, r.body)
		}
	}
	// A transient stream (ending with close) still runs.
	c.mustExec(`SELECT 1`)
	for _, b := range batons {
		c.must(b, hrana.CloseRequest())
	}
	// Concurrency.
	got429, slowOK := concurrently(t,
		func() int {
			_, e := c.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n`)
			if e != nil && e.Code == "SQLITE_INTERRUPT" {
				return 200 // it ran, until its timeout
			}
			return 429
		},
		func() *response {
			_, r := c.post(nil, hrana.ExecuteRequest(hrana.NewStmt("SELECT 1", nil, true)), hrana.CloseRequest())
			return r
		})
	if !got429 || !slowOK {
		t.Errorf("no 429 while a request ran (429 seen: %v, a slow request ran: %v)", got429, slowOK)
	}
}

// concurrently sends slow requests in the background until quick ones,
// sent meanwhile, get a 429 in the protocol's shape (or 5 s pass). It
// reports whether a 429 was seen and whether a slow request succeeded.
func concurrently(t *testing.T, slow func() int, quick func() *response) (got429, slowOK bool) {
	t.Helper()
	var mu sync.Mutex
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
			}
			if slow() == 200 {
				mu.Lock()
				slowOK = true
				mu.Unlock()
			}
		}
	}()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !got429; {
		if r := quick(); r.status == 429 {
			_, code := protoError(t, r)
			got429 = code == "TOO_MANY_REQUESTS" && r.header.Get("Retry-After") != ""
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(done)
	<-stopped
	mu.Lock()
	defer mu.Unlock()
	return got429, slowOK
}

// TestAllowList checks --statements: named statements run, raw SQL is
// refused with 403, on both protocols.
func TestAllowList(t *testing.T) {
	pgList, err := gateway.ParseStatements([]byte(`
-- name: add
INSERT INTO t VALUES ($1) RETURNING id;

-- name: count
SELECT count(*) FROM t
`))
	must(t, err)
	pool, _ := openPool(t, "")
	mustExec(t, pool, `CREATE TABLE t (id int PRIMARY KEY)`)
	_, pgURL := startServer(t, gateway.Config{Postgres: pool, Statements: pgList})
	if r := neonPost(t, pgURL, writeSecret, `{"queries":[{"query":"@add","params":["1"]},{"query":"@add","params":["2"]},{"query":" @count","params":[]}]}`, nil); r.status != 200 || !strings.Contains(string(r.body), `"rows":[["2"]]`) {
		t.Errorf("named statements: %d %s", r.status, r.body)
	}
	for _, q := range []string{"SELECT 1", "@nope", "@", "BEGIN"} {
		r := neonPost(t, pgURL, writeSecret, `{"query":`+strconv.Quote(q)+`,"params":[]}`, nil)
		if msg, code := protoError(t, r); r.status != 403 || code != "42501" || msg == "" {
			t.Errorf("%q: %d %s", q, r.status, r.body)
		}
	}
	sqliteList, err := gateway.ParseStatements([]byte(`{"add": "INSERT INTO t (v) VALUES (?)", "all": "SELECT group_concat(v) FROM t", "setup": "CREATE TABLE t (v TEXT)"}`))
	must(t, err)
	url := sqliteServer(t, gateway.Config{Statements: sqliteList})
	c := &hc{t: t, url: url, token: writeSecret}
	c.mustExec(`@setup`)
	resp := c.must(nil, hrana.StoreSQLRequest(0, "@add"), hrana.BatchRequest(hrana.BatchStep{Stmt: hrana.NewStmt("BEGIN IMMEDIATE", nil, false)},
		hrana.BatchStep{Condition: ptr(hrana.CondOK(0)), Stmt: hrana.Stmt{SQLID: i32(0), Args: []hrana.Value{hrana.TextValue("a")}}},
		hrana.BatchStep{Condition: ptr(hrana.CondOK(1)), Stmt: hrana.NewStmt("@add", []hrana.Value{hrana.TextValue("b")}, false)},
		hrana.BatchStep{Condition: ptr(hrana.CondOK(2)), Stmt: hrana.NewStmt("COMMIT", nil, false)},
		hrana.BatchStep{Condition: ptr(hrana.CondNot(hrana.CondOK(3))), Stmt: hrana.NewStmt("ROLLBACK", nil, false)}), hrana.CloseRequest())
	if b := resp.Results[1].Response.Batch; b.StepResults[3] == nil {
		t.Errorf("batch of named statements: %s", jsonOf(resp.Results[1]))
	}
	if got := c.scalar(`@all`); got.Text != "a,b" {
		t.Errorf("@all: %s", jsonOf(got))
	}
	for _, reqs := range [][]hrana.StreamRequest{
		{hrana.ExecuteRequest(hrana.NewStmt("SELECT 1", nil, true))},
		{hrana.ExecuteRequest(hrana.NewStmt("@missing", nil, true))},
		{hrana.StoreSQLRequest(0, "DELETE FROM t")},
		{hrana.SequenceRequest("DELETE FROM t")},
		{hrana.DescribeRequest("SELECT 1")},
		{hrana.ExecuteRequest(hrana.NewStmt("COMMIT; DELETE FROM t", nil, true))},
		{hrana.BatchRequest(hrana.BatchStep{Stmt: hrana.NewStmt("BEGIN", nil, false)}, hrana.BatchStep{Stmt: hrana.NewStmt("DELETE FROM t", nil, false)})},
	} {
		_, r := c.post(nil, reqs...)
		if _, code := protoError(t, r); r.status != 403 || code != "STATEMENT_NOT_ALLOWED" {
			t.Errorf("%s: %d %s", jsonOf(reqs), r.status, r.body)
		}
	}
	if got := c.scalar(`@all`); got.Text != "a,b" {
		t.Errorf("after refused requests: %s", jsonOf(got))
	}
}
