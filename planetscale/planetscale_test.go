package planetscale_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/planetscale"
)

// server is a scripted PlanetScale endpoint: it answers each query from
// answer and records the requests. The driver's behaviour against a real
// server (the gateway on MySQL) is tested in the gateway module; this
// tests the transport's rules that a server cannot be made to break.
type server struct {
	mu     sync.Mutex
	reqs   []map[string]any
	urls   []string
	auth   []string
	answer func(query string, session any) (*fetch.Response, error)
}

func (s *server) fetch(ctx context.Context, r *fetch.Request) (*fetch.Response, error) {
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, body)
	s.urls = append(s.urls, r.URL)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()
	q, _ := body["query"].(string)
	return s.answer(q, body["session"])
}

func session(sig string, inTx bool) string {
	b, _ := json.Marshal(map[string]any{"signature": sig, "vitessSession": map[string]any{"inTransaction": inTx}})
	return string(b)
}

func ok(sess, result string) (*fetch.Response, error) {
	return &fetch.Response{Status: 200, Body: []byte(`{"session":` + sess + `,"result":` + result + `}`)}, nil
}

func fail(sess, code, msg string) (*fetch.Response, error) {
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg})
	return &fetch.Response{Status: 200, Body: []byte(`{"session":` + sess + `,"error":` + string(b) + `}`)}, nil
}

func open(t *testing.T, s *server, url string) *planetscale.Conn {
	t.Helper()
	c, err := planetscale.Open(context.Background(), planetscale.Config{URL: url, Fetch: s.fetch, ServerVersion: "8.0.34-Vitess"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOpenURL(t *testing.T) {
	s := &server{answer: func(q string, _ any) (*fetch.Response, error) { return ok(session("s", false), "{}") }}
	for url, origin := range map[string]string{
		"mysql://u:p@aws.connect.psdb.cloud/db": "https://aws.connect.psdb.cloud",
		"https://u:p@h:8443":                    "https://h:8443",
		"http://u:p@127.0.0.1:9000/ignored":     "http://127.0.0.1:9000",
	} {
		if got := open(t, s, url).Origin(); got != origin {
			t.Errorf("%s: origin %s, want %s", url, got, origin)
		}
	}
	for _, url := range []string{"", "mysql://h", "mysql://u:p@", "::", "mysql://u:p@h\n"} {
		_, err := planetscale.Open(context.Background(), planetscale.Config{URL: url, Fetch: s.fetch, ServerVersion: "8.0.34"})
		var ce *planetscale.ConfigError
		if !errors.As(err, &ce) || strings.Contains(err.Error(), "p@") {
			t.Errorf("Open(%q) = %v, want a *ConfigError without the password", url, err)
		}
	}
	if _, err := planetscale.Open(context.Background(), planetscale.Config{URL: "mysql://u:p@h"}); err == nil {
		t.Error("no Fetch accepted")
	}
}

// TestSessions: each request sends the session the last response on it
// returned; the first request of a session sets it up; Basic auth.
func TestSessions(t *testing.T) {
	n := 0
	s := &server{}
	s.answer = func(q string, sess any) (*fetch.Response, error) {
		n++
		return ok(session("sig-"+string(rune('0'+n)), false), `{"fields":[{"name":"a","type":"INT64"}],"rows":[{"lengths":["1"],"values":"Nw=="}]}`)
	}
	c := open(t, s, "mysql://alice:s3cret@h")
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := c.Query(ctx, "SELECT ?", []any{int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if s.reqs[0]["session"] != nil || !strings.HasPrefix(s.reqs[0]["query"].(string), "SET SESSION sql_mode = '") {
		t.Errorf("first request: %v", s.reqs[0])
	}
	for i := 1; i < len(s.reqs); i++ {
		sig := s.reqs[i]["session"].(map[string]any)["signature"]
		if want := "sig-" + string(rune('0'+i)); sig != want {
			t.Errorf("request %d sent session %v, want %s", i, sig, want)
		}
	}
	if s.reqs[1]["query"] != "SELECT 0" || s.reqs[3]["query"] != "SELECT 2" {
		t.Errorf("queries: %v", s.reqs)
	}
	if s.auth[0] != "Basic YWxpY2U6czNjcmV0" || s.urls[0] != "https://h/psdb.v1alpha1.Database/Execute" {
		t.Errorf("auth %q, url %q", s.auth[0], s.urls[0])
	}
}

// TestCommitFailures: a COMMIT that fails, gets no answer, or leaves the
// session in a transaction is a *CommitError, never a success.
func TestCommitFailures(t *testing.T) {
	ctx := context.Background()
	for name, commit := range map[string]func() (*fetch.Response, error){
		"error": func() (*fetch.Response, error) {
			return fail(session("", false), "ABORTED", "transaction ended (errno 1317)")
		},
		"no answer":   func() (*fetch.Response, error) { return nil, errors.New("connection reset") },
		"still in tx": func() (*fetch.Response, error) { return ok(session("t", true), "{}") },
		"http 500":    func() (*fetch.Response, error) { return &fetch.Response{Status: 500, Body: []byte("oops")}, nil },
		"not json":    func() (*fetch.Response, error) { return &fetch.Response{Status: 200, Body: []byte("<html>")}, nil },
	} {
		s := &server{answer: func(q string, _ any) (*fetch.Response, error) {
			switch q {
			case "BEGIN":
				return ok(session("t", true), "{}")
			case "COMMIT":
				return commit()
			}
			return ok(session("t", strings.HasPrefix(q, "UPDATE")), `{"rowsAffected":"1"}`)
		}}
		tx, err := open(t, s, "mysql://u:p@h").Begin(ctx, driver.TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "UPDATE t SET a = 1", nil); err != nil {
			t.Fatal(err)
		}
		err = tx.Commit(ctx)
		var ce *planetscale.CommitError
		if !errors.As(err, &ce) {
			t.Errorf("%s: Commit = %v, want a *CommitError", name, err)
		}
	}
}

// TestServerEndedTransaction: after the server ended the transaction (a
// deadlock), Rollback has nothing to do and Commit fails.
func TestServerEndedTransaction(t *testing.T) {
	ctx := context.Background()
	s := &server{answer: func(q string, _ any) (*fetch.Response, error) {
		switch q {
		case "BEGIN":
			return ok(session("t", true), "{}")
		case "COMMIT", "ROLLBACK":
			return nil, errors.New("must not be sent")
		}
		if strings.HasPrefix(q, "SET") {
			return ok(session("", false), "{}")
		}
		return fail(session("", false), "ABORTED", "Deadlock found when trying to get lock (errno 1213) (sqlstate 40001)")
	}}
	c := open(t, s, "mysql://u:p@h")
	tx, err := c.Begin(ctx, driver.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "UPDATE t SET a = 1", nil)
	var pe *planetscale.Error
	if !errors.As(err, &pe) || pe.Number() != 1213 {
		t.Fatalf("Exec = %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Errorf("Rollback = %v", err)
	}
	tx, _ = c.Begin(ctx, driver.TxOptions{})
	_, _ = tx.Exec(ctx, "UPDATE t SET a = 1", nil)
	var ce *planetscale.CommitError
	if err := tx.Commit(ctx); !errors.As(err, &ce) || !errors.As(err, &pe) {
		t.Errorf("Commit = %v, want a *CommitError wrapping the deadlock", err)
	}
}

// TestErrors: constraint violations as Vitess relays them, HTTP errors.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	s := &server{answer: func(q string, _ any) (*fetch.Response, error) {
		switch {
		case strings.HasPrefix(q, "SET"):
			return ok(session("", false), "{}")
		case q == "dup":
			return fail(session("", false), "ALREADY_EXISTS", "target: app.-.primary: vttablet: Duplicate entry 'a@b' for key 'users.users_email_key' (errno 1062) (sqlstate 23000) (CallerID: x)")
		case q == "null":
			return fail(session("", false), "INVALID_ARGUMENT", "target: app.-.primary: vttablet: Column 'name' cannot be null (errno 1048) (sqlstate 23000) (CallerID: x)")
		case q == "401":
			return &fetch.Response{Status: 401, Body: []byte(`{"error":{"code":"unauthenticated","message":"invalid password"}}`)}, nil
		}
		return &fetch.Response{Status: 502, Body: []byte("<html>bad gateway</html>")}, nil
	}}
	c := open(t, s, "mysql://u:p@h")
	_, err := c.Exec(ctx, "dup", nil)
	var ce *driver.ConstraintError
	if !errors.As(err, &ce) || ce.Kind != driver.Unique || ce.Constraint != "users_email_key" || ce.Table != "users" {
		t.Errorf("dup: %v %+v", err, ce)
	}
	_, err = c.Exec(ctx, "null", nil)
	if !errors.As(err, &ce) || ce.Kind != driver.NotNull || len(ce.Columns) != 1 || ce.Columns[0] != "name" {
		t.Errorf("null: %v %+v", err, ce)
	}
	_, err = c.Exec(ctx, "401", nil)
	var pe *planetscale.Error
	if !errors.As(err, &pe) || pe.Message != "invalid password" {
		t.Errorf("401: %v", err)
	}
	_, err = c.Exec(ctx, "502", nil)
	var se *fetch.StatusError
	if !errors.As(err, &se) || se.Status != 502 {
		t.Errorf("502: %v", err)
	}
	if _, err := c.Exec(ctx, "SELECT ?", nil); err == nil {
		t.Error("a placeholder without an argument was sent")
	}
}
