package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/wire/hrana"
)

// The tokens of the servers under test.
const (
	writeSecret = "w-0123456789abcdef-write"
	readSecret  = "r-0123456789abcdef-read"
	otherSecret = "o-0123456789abcdef-other"
)

func testTokens() []gateway.Token {
	return []gateway.Token{
		{Name: "writer", Secret: writeSecret, Role: gateway.RoleWrite},
		{Name: "reader", Secret: readSecret, Role: gateway.RoleRead},
		{Name: "other", Secret: otherSecret, Role: gateway.RoleWrite},
	}
}

// openSQLite opens a fresh SQLite file database for one test.
func openSQLite(t testing.TB) (rw, ro *sql.DB) {
	t.Helper()
	rw, ro, err := gateway.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = rw.Close()
		_ = ro.Close()
	})
	return rw, ro
}

// startServer runs a gateway Server over cfg (with the test tokens and a
// quiet logger unless set) and returns it and its base URL.
func startServer(t testing.TB, cfg gateway.Config) (*gateway.Server, string) {
	t.Helper()
	if cfg.Tokens == nil {
		cfg.Tokens = testTokens()
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	srv, err := gateway.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	return srv, ts.URL
}

// sqliteServer is a gateway over a fresh SQLite file.
func sqliteServer(t testing.TB, cfg gateway.Config) string {
	t.Helper()
	cfg.SQLite, cfg.SQLiteReadOnly = openSQLite(t)
	_, url := startServer(t, cfg)
	return url
}

// do sends a request and reads the whole response.
func do(t testing.TB, method, url, token, body string, headers map[string]string) *response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// protoError decodes a {"message", "code"} error body.
func protoError(t testing.TB, r *response) (msg, code string) {
	t.Helper()
	var e struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Message == "" {
		t.Fatalf("status %d: body is not a JSON error: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	return e.Message, e.Code
}

// hc is a Hrana client for tests: it builds requests with wire/hrana and
// decodes responses with it.
type hc struct {
	t     testing.TB
	url   string
	token string
}

func (c *hc) post(baton *string, reqs ...hrana.StreamRequest) (*hrana.PipelineResponse, *response) {
	c.t.Helper()
	body, err := (&hrana.PipelineRequest{Baton: baton, Requests: reqs}).AppendJSON(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	r := do(c.t, http.MethodPost, c.url+"/v2/pipeline", c.token, string(body), map[string]string{"Content-Type": "application/json"})
	if r.status != http.StatusOK {
		return nil, r
	}
	resp, err := hrana.DecodePipelineResponse(r.body)
	if err != nil {
		c.t.Fatalf("response is not a pipeline response: %v\n%s", err, r.body)
	}
	if len(resp.Results) != len(reqs) {
		c.t.Fatalf("%d results for %d requests", len(resp.Results), len(reqs))
	}
	return resp, r
}

// must posts and fails the test on an HTTP error.
func (c *hc) must(baton *string, reqs ...hrana.StreamRequest) *hrana.PipelineResponse {
	c.t.Helper()
	resp, r := c.post(baton, reqs...)
	if resp == nil {
		c.t.Fatalf("HTTP %d: %s", r.status, r.body)
	}
	return resp
}

// exec runs one statement on a new stream and returns its result or error.
func (c *hc) exec(sql string, args ...hrana.Value) (*hrana.StmtResult, *hrana.Error) {
	c.t.Helper()
	resp := c.must(nil, hrana.ExecuteRequest(hrana.NewStmt(sql, args, true)), hrana.CloseRequest())
	if resp.Baton != nil {
		c.t.Errorf("a closed stream got a baton")
	}
	if r := resp.Results[0]; r.Error != nil {
		return nil, r.Error
	}
	return resp.Results[0].Response.Execute, nil
}

func (c *hc) mustExec(sql string, args ...hrana.Value) *hrana.StmtResult {
	c.t.Helper()
	r, e := c.exec(sql, args...)
	if e != nil {
		c.t.Fatalf("%s: %v", sql, e)
	}
	return r
}

// scalar runs a one-cell query.
func (c *hc) scalar(sql string, args ...hrana.Value) hrana.Value {
	c.t.Helper()
	r := c.mustExec(sql, args...)
	if len(r.Rows) != 1 || len(r.Rows[0]) != 1 {
		c.t.Fatalf("%s: %d rows", sql, len(r.Rows))
	}
	return r.Rows[0][0]
}

// goroutines waits for the goroutine count to fall back to at most n
// (with some slack for the runtime's own), and fails with a dump if it
// does not.
func checkGoroutines(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := runtime.NumGoroutine()
		if got <= n+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutine leak: %d goroutines, %d before\n%s", got, n, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func jsonOf(v any) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v)
	return strings.TrimSpace(b.String())
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
