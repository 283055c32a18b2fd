package neon_test

// These tests check the driver's side of the protocol: what it sends and
// how it reads each kind of response, with the replies captured in the
// protocol's test vectors. Database behaviour is tested against
// PostgreSQL through forge's gateway (gateway/, TestNeonConformance).

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/neon"
)

const cs = "postgresql://alice:s3cret@ep-cool-name-123456.us-east-2.aws.neon.tech/neondb?sslmode=require"

// recorder is a Fetcher that records requests and answers with a canned
// response.
type recorder struct {
	mu     sync.Mutex
	reqs   []*fetch.Request
	status int
	body   string
	err    error
}

func (r *recorder) fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	if r.err != nil {
		return nil, r.err
	}
	return &fetch.Response{Status: r.status, Header: fetch.Header{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(r.body)}, nil
}

func open(t *testing.T, r *recorder, cfg neon.Config) *neon.Conn {
	t.Helper()
	if cfg.ConnectionString == "" {
		cfg.ConnectionString = cs
	}
	cfg.Fetch = r.fetch
	c, err := neon.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOpen(t *testing.T) {
	f := (&recorder{}).fetch
	var ce *neon.ConfigError
	if _, err := neon.Open(neon.Config{ConnectionString: cs}); !errors.As(err, &ce) || ce.Field != "Fetch" {
		t.Errorf("no Fetch: %v", err)
	}
	for _, bad := range []string{
		"", "mysql://alice:s3cret@host/db", "postgres://host/db", "postgres://:s3cret@host/db",
		"postgres://alice:s3cret@/db", "postgres://alice:s3cret@-/db", "postgres://alice:s3cret@host",
		"postgres://alice:s3cret@host/", "postgres://alice:s3cret@host/db\nX-Evil: 1", "::not a url",
	} {
		_, err := neon.Open(neon.Config{ConnectionString: bad, Fetch: f})
		if !errors.As(err, &ce) || ce.Field != "ConnectionString" {
			t.Errorf("%q: %v", bad, err)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	for _, bad := range []string{"ftp://x/sql", "localhost:8080/sql", "http:///sql", "://"} {
		if _, err := neon.Open(neon.Config{ConnectionString: cs, Endpoint: bad, Fetch: f}); !errors.As(err, &ce) || ce.Field != "Endpoint" {
			t.Errorf("endpoint %q: %v", bad, err)
		}
	}
	if _, err := neon.Open(neon.Config{ConnectionString: cs, AuthToken: "a\r\nb", Fetch: f}); !errors.As(err, &ce) {
		t.Errorf("a token with a line break: %v", err)
	}
	for _, c := range []struct {
		cs, token, want string
	}{
		{cs, "", "https://api.us-east-2.aws.neon.tech/sql"},
		{cs, "jwt", "https://apiauth.us-east-2.aws.neon.tech/sql"},
		{"postgres://u@localhost:5432/db", "", "https://localhost/sql"},
		{"postgres://u@127.0.0.1/db", "", "https://api.0.0.1/sql"},
		{"postgres://u@[::1]:5432/db", "", "https://[::1]/sql"},
		{"postgresql://authenticated@ep-x.eu-central-1.aws.neon.tech/db", "t", "https://apiauth.eu-central-1.aws.neon.tech/sql"},
	} {
		conn, err := neon.Open(neon.Config{ConnectionString: c.cs, AuthToken: c.token, Fetch: f})
		if err != nil || conn.Endpoint() != c.want {
			t.Errorf("%s: endpoint %v, %v; want %s", c.cs, conn, err, c.want)
		}
	}
	conn := open(t, &recorder{}, neon.Config{Endpoint: "http://127.0.0.1:1/sql"})
	if conn.Endpoint() != "http://127.0.0.1:1/sql" || conn.DriverName() != "neon" || conn.Dialect().Name() != "postgres" {
		t.Errorf("conn %v %v %v", conn.Endpoint(), conn.DriverName(), conn.Dialect().Name())
	}
	var _ driver.Batcher = conn
	if _, ok := any(conn).(driver.Beginner); ok {
		t.Error("the neon driver claims interactive transactions")
	}
}

const insertResult = `{"command":"INSERT","rowCount":1,"rowAsArray":true,"fields":[{"name":"id","dataTypeID":23,"tableID":16384,"columnID":1,"dataTypeSize":4,"dataTypeModifier":-1,"format":"text"}],"rows":[["43"]]}`

// TestRequests checks what the driver sends against what the JavaScript
// client sends (the protocol's vectors).
func TestRequests(t *testing.T) {
	r := &recorder{status: 200, body: insertResult}
	c := open(t, r, neon.Config{Endpoint: "http://127.0.0.1:9/sql"})
	ctx := context.Background()
	rows, err := c.Query(ctx, `INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id`, []any{"c@d.co", nil})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if !rows.Next() || rows.Scan(&id) != nil || id != 43 || rows.Next() {
		t.Errorf("rows: %d", id)
	}
	req := r.reqs[0]
	if req.Method != "POST" || req.URL != "http://127.0.0.1:9/sql" {
		t.Errorf("%s %s", req.Method, req.URL)
	}
	for name, want := range map[string]string{
		"Neon-Connection-String": cs, "Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true",
		"Authorization": "", "Neon-Batch-Isolation-Level": "",
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if string(req.Body) != `{"query":"INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id","params":["c@d.co",null]}` {
		t.Errorf("body %s", req.Body)
	}
	res, err := c.Exec(ctx, `SELECT $1, $2, $3, $4, $5, $6`, []any{int64(42), 3.14, true, []byte{1, 2, 0xff}, time.Date(2024, 1, 2, 3, 4, 5, 678000000, time.UTC), int32(-1)})
	if err != nil || res.RowsAffected != 1 {
		t.Fatalf("Exec: %+v %v", res, err)
	}
	if got := string(r.reqs[1].Body); got != `{"query":"SELECT $1, $2, $3, $4, $5, $6","params":["42","3.14","true","\\x0102ff","2024-01-02T03:04:05.678Z","-1"]}` {
		t.Errorf("params %s", got)
	}

	// A batch is one transaction request; options go in headers.
	r.body = `{"results":[` + insertResult + `,{"command":"UPDATE","rowCount":2,"rowAsArray":true,"fields":[],"rows":[]}]}`
	c2 := open(t, r, neon.Config{Endpoint: "http://127.0.0.1:9/sql", AuthToken: "eyJ.test.jwt"})
	brs, err := c2.BatchWith(ctx, neon.BatchOptions{Isolation: driver.Serializable, ReadOnly: true}, []driver.Stmt{
		{SQL: `INSERT INTO ledger VALUES ($1, $2) RETURNING id`, Args: []any{int64(2), int64(100)}, Rows: true},
		{SQL: `UPDATE accounts SET balance = balance + $1`, Args: []any{int64(100)}},
	})
	if err != nil || len(brs) != 2 || brs[0].RowsAffected != 1 || brs[1].RowsAffected != 2 || brs[0].Rows == nil || brs[1].Rows != nil {
		t.Fatalf("batch %+v %v", brs, err)
	}
	req = r.reqs[2]
	var body struct {
		Queries []struct {
			Query  string    `json:"query"`
			Params []*string `json:"params"`
		} `json:"queries"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil || len(body.Queries) != 2 || *body.Queries[1].Params[0] != "100" {
		t.Errorf("batch body %s", req.Body)
	}
	for name, want := range map[string]string{
		"Authorization": "Bearer eyJ.test.jwt", "Neon-Batch-Isolation-Level": "Serializable",
		"Neon-Batch-Read-Only": "true", "Neon-Batch-Deferrable": "",
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("batch header %s = %q, want %q", name, got, want)
		}
	}
	// An empty batch sends nothing.
	if brs, err := c.Batch(ctx, nil); brs != nil || err != nil || len(r.reqs) != 3 {
		t.Errorf("empty batch: %v %v (%d requests)", brs, err, len(r.reqs))
	}
}

// TestResponses checks how each kind of response is read.
func TestResponses(t *testing.T) {
	ctx := context.Background()
	run := func(status int, body string) error {
		_, err := open(t, &recorder{status: status, body: body}, neon.Config{}).Query(ctx, "SELECT 1", nil)
		return err
	}
	// The captured 400: a *driver.ConstraintError wrapping the *neon.Error.
	err := run(400, `{"message":"duplicate key value violates unique constraint \"users_email_key\"","code":"23505","severity":"ERROR","detail":"Key (email)=(a@b.co) already exists.","schema":"public","table":"users","constraint":"users_email_key","file":"nbtinsert.c","line":"666","routine":"_bt_check_unique"}`)
	var ce *driver.ConstraintError
	var ne *neon.Error
	if !errors.As(err, &ce) || ce.Kind != driver.Unique || ce.Constraint != "users_email_key" || ce.Table != "users" || len(ce.Columns) != 1 || ce.Columns[0] != "email" {
		t.Errorf("unique: %#v", err)
	}
	if !errors.As(err, &ne) || ne.Code != "23505" || ne.Line != "666" {
		t.Errorf("unique: no *neon.Error inside: %v", err)
	}
	err = run(400, `{"message":"relation \"nope\" does not exist","code":"42P01","position":"15","severity":"ERROR"}`)
	if !errors.As(err, &ne) || ne.Code != "42P01" || ne.Position != "15" || errors.As(err, &ce) {
		t.Errorf("42P01: %#v", err)
	}
	if !strings.Contains(err.Error(), "42P01") || !strings.Contains(err.Error(), `relation "nope" does not exist`) {
		t.Errorf("message %q", err.Error())
	}
	// The captured 500, and a 400 that is not an error body.
	var se *fetch.StatusError
	if err := run(500, "upstream exploded"); !errors.As(err, &se) || se.Status != 500 || se.Body != "upstream exploded" {
		t.Errorf("500: %v", err)
	}
	if err := run(400, "bad"); !errors.As(err, &se) || se.Status != 400 {
		t.Errorf("400 text: %v", err)
	}
	if err := run(413, `{"message":"request is too large"}`); !errors.As(err, &se) || se.Status != 413 {
		t.Errorf("413: %v", err)
	}
	// 200s that do not follow the protocol.
	var re *neon.ResponseError
	for _, body := range []string{``, `{}`, `{"fields":[],"rows":[{"a":1}]}`, `{"fields":[{"name":"a","dataTypeID":23}],"rows":[[]]}`, `{"fields":[{"name":"a","dataTypeID":23}],"rows":[[1]]}`} {
		if err := run(200, body); !errors.As(err, &re) {
			t.Errorf("200 %s: %v", body, err)
		}
	}
	var cellErr *neon.CellError
	if err := run(200, `{"fields":[{"name":"a","dataTypeID":23}],"rows":[["1.5"]]}`); !errors.As(err, &cellErr) {
		t.Errorf("a bad cell: %v", err)
	}
	// A transaction response of the wrong length.
	r := &recorder{status: 200, body: `{"results":[]}`}
	if _, err := open(t, r, neon.Config{}).Batch(ctx, []driver.Stmt{{SQL: "SELECT 1"}}); !errors.As(err, &re) {
		t.Errorf("short results: %v", err)
	}
	// A network failure.
	boom := errors.New("connection refused")
	if _, err := open(t, &recorder{err: boom}, neon.Config{}).Exec(ctx, "SELECT 1", nil); !errors.Is(err, boom) {
		t.Errorf("network failure: %v", err)
	}
}

// TestContext checks that a context that ends stops the wait.
func TestContext(t *testing.T) {
	block := func(ctx context.Context, _ *fetch.Request) (*fetch.Response, error) {
		<-ctx.Done()
		return nil, errors.New("aborted") // as a fetch that does not wrap the cause
	}
	c, err := neon.Open(neon.Config{ConnectionString: cs, Fetch: block})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Exec(ctx, "SELECT pg_sleep(10)", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the wait did not stop")
	}
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := c.Query(done, "SELECT 1", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before sending: %v", err)
	}
}
