package d1rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/d1rest"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/fetch/nethttp"
)

// stub is a Fetcher that records requests and answers with a canned
// response.
type stub struct {
	mu     sync.Mutex
	reqs   []*fetch.Request
	status int
	body   string
	err    error
}

func (s *stub) fetch(ctx context.Context, r *fetch.Request) (*fetch.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
	if s.err != nil {
		return nil, s.err
	}
	return &fetch.Response{Status: s.status, Body: []byte(s.body)}, nil
}

func openStub(t *testing.T, status int, body string) (*d1rest.Conn, *stub) {
	t.Helper()
	s := &stub{status: status, body: body}
	c, err := d1rest.Open(d1rest.Config{AccountID: "acc", DatabaseID: "db-1", APIToken: "tok", BaseURL: "http://127.0.0.1:1/client/v4/", Fetch: s.fetch})
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

// okBody wraps statement results in a successful envelope.
func okBody(results ...string) string {
	return `{"success":true,"errors":[],"messages":[],"result":[` + strings.Join(results, ",") + `]}`
}

func rawResult(columns, rows string) string {
	return `{"success":true,"meta":{"changes":0,"last_row_id":0},"results":{"columns":` + columns + `,"rows":` + rows + `}}`
}

func TestOpen(t *testing.T) {
	f := (&stub{}).fetch
	good := d1rest.Config{AccountID: "a", DatabaseID: "d", APIToken: "t", Fetch: f}
	for name, mod := range map[string]func(*d1rest.Config){
		"no account":    func(c *d1rest.Config) { c.AccountID = "" },
		"no database":   func(c *d1rest.Config) { c.DatabaseID = " " },
		"no token":      func(c *d1rest.Config) { c.APIToken = "" },
		"token with LF": func(c *d1rest.Config) { c.APIToken = "t\nX-Evil: 1" },
		"no fetcher":    func(c *d1rest.Config) { c.Fetch = nil },
		"bad base URL":  func(c *d1rest.Config) { c.BaseURL = "ftp://x" },
		"relative base": func(c *d1rest.Config) { c.BaseURL = "/client/v4" },
		"no host":       func(c *d1rest.Config) { c.BaseURL = "https:///client/v4" },
		"query":         func(c *d1rest.Config) { c.BaseURL = "https://x/client/v4?a=1" },
		"space":         func(c *d1rest.Config) { c.BaseURL = "https://x/client v4" },
	} {
		cfg := good
		mod(&cfg)
		_, err := d1rest.Open(cfg)
		var ce *d1rest.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a *ConfigError", name, err)
		}
	}
	c, err := d1rest.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	// Ids are escaped as path segments.
	s := &stub{status: 200, body: okBody()}
	odd, err := d1rest.Open(d1rest.Config{AccountID: "a/b", DatabaseID: "d?x=1 é", APIToken: "t", Fetch: s.fetch})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := odd.Exec(context.Background(), "SELECT 1", nil); err != nil {
		t.Fatal(err)
	}
	if u := s.reqs[0].URL; u != "https://api.cloudflare.com/client/v4/accounts/a%2Fb/d1/database/d%3Fx%3D1%20%C3%A9/raw" {
		t.Errorf("URL %s", u)
	}
	if c.DriverName() != "d1rest" || c.Dialect().Name() != "sqlite" || c.Dialect().MaxParams() != 100 {
		t.Errorf("name %q, dialect %q with %d params", c.DriverName(), c.Dialect().Name(), c.Dialect().MaxParams())
	}
	if _, ok := any(c).(driver.Batcher); ok {
		t.Error("d1rest implements driver.Batcher, but Cloudflare does not document REST batches as atomic")
	}
	if _, ok := any(c).(driver.Beginner); ok {
		t.Error("d1rest implements driver.Beginner, but D1 has no interactive transactions")
	}
}

func TestRequest(t *testing.T) {
	c, s := openStub(t, 200, okBody(rawResult(`[]`, `[]`)))
	tm := time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.FixedZone("x", 3600))
	args := []any{nil, int64(-(1<<53 - 1)), int64(1<<53 - 1), int32(math.MinInt32), 42,
		0.1, math.MaxFloat64, math.SmallestNonzeroFloat64, -1.5e-300, 1e21, 3.0,
		true, false, "it's \"q\" ünï 🎉", "", tm}
	if _, err := c.Exec(context.Background(), "INSERT INTO t VALUES (?)", args); err != nil {
		t.Fatal(err)
	}
	if len(s.reqs) != 1 {
		t.Fatalf("%d requests", len(s.reqs))
	}
	r := s.reqs[0]
	if r.Method != "POST" || r.URL != "http://127.0.0.1:1/client/v4/accounts/acc/d1/database/db-1/raw" {
		t.Errorf("%s %s", r.Method, r.URL)
	}
	if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", r.Header)
	}
	var body struct {
		SQL    string    `json:"sql"`
		Params []*string `json:"params"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := []string{"<null>", "-9007199254740991", "9007199254740991", "-2147483648", "42",
		"0.1", "1.7976931348623157e+308", "5e-324", "-1.5e-300", "1e+21", "3",
		"1", "0", "it's \"q\" ünï 🎉", "", "2024-02-29T11:30:45.123456789Z"}
	var got []string
	for _, p := range body.Params {
		if p == nil {
			got = append(got, "<null>")
		} else {
			got = append(got, *p)
		}
	}
	if body.SQL != "INSERT INTO t VALUES (?)" || !reflect.DeepEqual(got, want) {
		t.Errorf("body %s\ngot params  %q\nwant params %q", r.Body, got, want)
	}
	// No arguments: an empty params array, not null.
	if _, err := c.Exec(context.Background(), "DELETE FROM t", nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(s.reqs[1].Body), `"params":[]`) {
		t.Errorf("body without arguments: %s", s.reqs[1].Body)
	}
}

func TestBindErrors(t *testing.T) {
	c, s := openStub(t, 200, okBody(rawResult(`[]`, `[]`)))
	for name, tc := range map[string]struct {
		arg  any
		want string
	}{
		"blob":         {[]byte{1, 2, 3}, "D1's REST API cannot carry blobs"},
		"2^53":         {int64(1 << 53), "beyond ±(2^53-1)"},
		"-2^53":        {int64(-(1 << 53)), "beyond ±(2^53-1)"},
		"MaxInt64":     {int64(math.MaxInt64), "beyond ±(2^53-1)"},
		"MinInt64":     {int64(math.MinInt64), "beyond ±(2^53-1)"},
		"big int":      {1<<53 + 1, "beyond ±(2^53-1)"},
		"empty blob":   {[]byte{}, "D1's REST API cannot carry blobs"},
		"NaN":          {math.NaN(), "no NaN or infinity"},
		"+Inf":         {math.Inf(1), "no NaN or infinity"},
		"invalid UTF8": {"a\xffb", "not valid UTF-8"},
		"struct":       {struct{}{}, "not a type the d1rest driver binds"},
		"uint64":       {uint64(1), "not a type the d1rest driver binds"},
	} {
		_, err := c.Exec(context.Background(), "INSERT INTO t VALUES (?, ?)", []any{int64(1), tc.arg})
		var ve *d1rest.ValueError
		if !errors.As(err, &ve) || ve.Arg != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a *ValueError for argument 2 saying %q", name, err, tc.want)
		}
		if _, err := c.Query(context.Background(), "SELECT ?", []any{tc.arg}); !errors.As(err, &ve) {
			t.Errorf("%s in Query: %v", name, err)
		}
	}
	if len(s.reqs) != 0 {
		t.Errorf("%d requests were sent for refused arguments", len(s.reqs))
	}
}

func TestForgeWithoutTransactions(t *testing.T) {
	c, s := openStub(t, 200, okBody(rawResult(`[]`, `[]`)))
	db, err := forge.Open(forge.MustSchema(), c)
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	err = db.Transaction(context.Background(), func(*forge.Tx) error { ran = true; return nil })
	var ce *forge.CapabilityError
	if !errors.As(err, &ce) || ran {
		t.Errorf("Transaction: %v (ran %v), want a *forge.CapabilityError", err, ran)
	}
	_, err = db.Batch(context.Background(), forge.ExecOp("DELETE FROM t"), forge.ExecOp("DELETE FROM u"))
	if !errors.As(err, &ce) {
		t.Errorf("Batch: %v, want a *forge.CapabilityError", err)
	}
	if len(s.reqs) != 0 {
		t.Errorf("%d requests sent for refused transactions and batches", len(s.reqs))
	}
}

func TestResults(t *testing.T) {
	ctx := context.Background()
	// Exec: changes and last_row_id.
	c, _ := openStub(t, 200, okBody(`{"success":true,"meta":{"changes":3,"last_row_id":43,"duration":0.2},"results":{"columns":[],"rows":[]}}`))
	res, err := c.Exec(ctx, " INSERT INTO t VALUES (1)", nil)
	if err != nil || res != (driver.Result{RowsAffected: 3, LastInsertID: 43, HasLastInsertID: true}) {
		t.Errorf("insert: %+v %v", res, err)
	}
	res, err = c.Exec(ctx, "UPDATE t SET x = 1", nil)
	if err != nil || res != (driver.Result{RowsAffected: 3}) {
		t.Errorf("update (last_row_id is not its own): %+v %v", res, err)
	}
	// A script: changes summed.
	c, _ = openStub(t, 200, okBody(`{"meta":{"changes":1,"last_row_id":7}}`, `{"meta":{"changes":2,"last_row_id":7}}`))
	res, err = c.Exec(ctx, "INSERT INTO a VALUES (1); UPDATE b SET x = 1", nil)
	if err != nil || res.RowsAffected != 3 || res.HasLastInsertID {
		t.Errorf("script: %+v %v", res, err)
	}
	if _, err := c.Query(ctx, "SELECT 1; SELECT 2", nil); !isResponseError(err) {
		t.Errorf("Query of two statements: %v", err)
	}
	// A row id beyond 2^53-1 may have been rounded: none is reported.
	c, _ = openStub(t, 200, okBody(`{"meta":{"changes":1,"last_row_id":9007199254740992}}`))
	if res, err := c.Exec(ctx, "INSERT INTO t VALUES (1)", nil); err != nil || res.HasLastInsertID {
		t.Errorf("rounded row id: %+v %v", res, err)
	}
	// Query: every kind of value.
	c, _ = openStub(t, 200, okBody(rawResult(`["i","f","s","n","b","big","neg","e","one"]`,
		`[[9007199254740991,0.5,"x",null,[0,1,255],9007199254740992,-9007199254740991,1e300,1.0],[0,-2.5e-7,"",null,[],9223372036854776000,-9223372036854775808,100000000000000000000,1e3]]`)))
	rows, err := c.Query(ctx, "SELECT ...", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !reflect.DeepEqual(rows.Columns(), []string{"i", "f", "s", "n", "b", "big", "neg", "e", "one"}) {
		t.Errorf("columns %q", rows.Columns())
	}
	want := [][]any{
		{int64(9007199254740991), 0.5, "x", nil, []byte{0, 1, 255}, float64(1 << 53), int64(-9007199254740991), 1e300, int64(1)},
		{int64(0), -2.5e-7, "", nil, []byte{}, 9223372036854775807.0, -9223372036854775808.0, 1e20, int64(1000)},
	}
	for i := 0; rows.Next(); i++ {
		got := make([]any, 9)
		dest := make([]any, 9)
		for j := range got {
			dest[j] = &got[j]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("row %d: %#v\nwant %#v", i, got, want[i])
		}
		// Integers beyond ±(2^53-1) are refused for integer destinations,
		// with 2^53 itself (what 2^53+1 arrives as).
		var i64 int64
		var pi64 *int64
		var i32 int32
		var f float64
		for _, d := range []any{&i64, &pi64, &i32} {
			if err := rows.Scan(new(any), new(any), new(any), new(any), new(any), d, new(any), new(any), new(any)); err == nil || !strings.Contains(err.Error(), "2^53") {
				t.Errorf("row %d: scanning %v into %T: %v", i, got[5], d, err)
			}
		}
		var blob []byte
		if err := rows.Scan(&i64, &f, new(string), new(*string), &blob, &f, new(any), &f, &i64); err != nil {
			t.Errorf("row %d: typed scan: %v", i, err)
		}
		if blob == nil || !reflect.DeepEqual(blob, want[i][4]) && len(blob) != 0 {
			t.Errorf("row %d: blob %#v", i, blob)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// No rows: the columns are still there.
	c, _ = openStub(t, 200, okBody(rawResult(`["a","b"]`, `[]`)))
	rows, err = c.Query(ctx, "SELECT a, b FROM t", nil)
	if err != nil || len(rows.Columns()) != 2 || rows.Next() {
		t.Errorf("empty result: %v", err)
	}
}

func isResponseError(err error) bool {
	var re *d1rest.ResponseError
	return errors.As(err, &re)
}

// TestMalformedResponses serves bad replies over real HTTP: each is a
// clear, typed error, never a panic.
func TestMalformedResponses(t *testing.T) {
	type reply struct {
		status int
		ctype  string
		body   string
	}
	var mu sync.Mutex
	var next reply
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		rep := next
		mu.Unlock()
		w.Header().Set("Content-Type", rep.ctype)
		w.WriteHeader(rep.status)
		_, _ = w.Write([]byte(rep.body))
	}))
	defer srv.Close()
	c, err := d1rest.Open(d1rest.Config{AccountID: "a", DatabaseID: "d", APIToken: "t", BaseURL: srv.URL + "/client/v4", Fetch: nethttp.New(srv.Client())})
	if err != nil {
		t.Fatal(err)
	}
	status := func(code int) func(error) bool {
		return func(err error) bool {
			var se *fetch.StatusError
			return errors.As(err, &se) && se.Status == code
		}
	}
	api := func(code, errCode int, msg string) func(error) bool {
		return func(err error) bool {
			var ae *d1rest.APIError
			return errors.As(err, &ae) && ae.Status == code && ae.Code() == errCode && strings.Contains(err.Error(), msg)
		}
	}
	constraint := func(kind driver.ConstraintKind) func(error) bool {
		return func(err error) bool {
			var ce *driver.ConstraintError
			var ae *d1rest.APIError
			return errors.As(err, &ce) && ce.Kind == kind && errors.As(err, &ae)
		}
	}
	for name, tc := range map[string]struct {
		reply
		ok func(error) bool
	}{
		"HTML 502":              {reply{502, "text/html", "<html><body>Bad gateway</body></html>"}, status(502)},
		"garbage":               {reply{200, "application/json", "{{{ not json"}, status(200)},
		"empty 200":             {reply{200, "application/json", ""}, status(200)},
		"truncated":             {reply{200, "application/json", okBody(rawResult(`["a"]`, `[[1]]`))[:40]}, status(200)},
		"trailing data":         {reply{200, "application/json", okBody() + "{}"}, status(200)},
		"JSON but no envelope":  {reply{200, "application/json", `{"rows":[[1]]}`}, status(200)},
		"array":                 {reply{200, "application/json", `[1,2]`}, status(200)},
		"success true on a 500": {reply{500, "application/json", okBody()}, status(500)},
		"success:false 400":     {reply{400, "application/json", `{"success":false,"errors":[{"code":7500,"message":"no such table: nope: SQLITE_ERROR"}],"messages":[],"result":[]}`}, api(400, 7500, "no such table: nope")},
		"success:false 200":     {reply{200, "application/json", `{"success":false,"errors":[{"code":7400,"message":"bad"}]}`}, api(200, 7400, "bad")},
		"success:false no msgs": {reply{403, "application/json", `{"success":false,"errors":"oops"}`}, api(403, 0, "without an error message")},
		"auth":                  {reply{401, "application/json", `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}`}, api(401, 10000, "Authentication error")},
		"unique":                {reply{400, "application/json", `{"success":false,"errors":[{"code":7500,"message":"UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT"}]}`}, constraint(driver.Unique)},
		"statement failed":      {reply{200, "application/json", okBody(`{"success":false,"error":"FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"}`)}, constraint(driver.ForeignKey)},
		"result not array":      {reply{200, "application/json", `{"success":true,"result":{"a":1}}`}, isResponseError},
		"result null":           {reply{200, "application/json", `{"success":true,"result":null}`}, isResponseError},
		"result of strings":     {reply{200, "application/json", okBody(`"x"`)}, isResponseError},
		"meta not object":       {reply{200, "application/json", okBody(`{"meta":[1]}`)}, isResponseError},
		"negative changes":      {reply{200, "application/json", okBody(`{"meta":{"changes":-1}}`)}, isResponseError},
		"results not object":    {reply{200, "application/json", okBody(`{"results":[{"a":1}]}`)}, isResponseError},
		"columns not strings":   {reply{200, "application/json", okBody(rawResult(`[1]`, `[]`))}, isResponseError},
		"rows not array":        {reply{200, "application/json", okBody(rawResult(`["a"]`, `{"x":1}`))}, isResponseError},
		"row not array":         {reply{200, "application/json", okBody(rawResult(`["a"]`, `[1]`))}, isResponseError},
		"short row":             {reply{200, "application/json", okBody(rawResult(`["a","b"]`, `[[1]]`))}, isResponseError},
		"long row":              {reply{200, "application/json", okBody(rawResult(`["a"]`, `[[1,2]]`))}, isResponseError},
		"boolean value":         {reply{200, "application/json", okBody(rawResult(`["a"]`, `[[true]]`))}, isResponseError},
		"object value":          {reply{200, "application/json", okBody(rawResult(`["a"]`, `[[{"x":1}]]`))}, isResponseError},
		"nested array":          {reply{200, "application/json", okBody(rawResult(`["a"]`, `[[[[1]]]]`))}, isResponseError},
		"byte out of range":     {reply{200, "application/json", okBody(rawResult(`["a"]`, `[[[1,256]]]`))}, isResponseError},
		"fractional byte":       {reply{200, "application/json", okBody(rawResult(`["a"]`, `[[[1.5]]]`))}, isResponseError},
		"number beyond float":   {reply{200, "application/json", okBody(rawResult(`["a"]`, `[[1e400]]`))}, isResponseError},
	} {
		mu.Lock()
		next = tc.reply
		mu.Unlock()
		_, qerr := c.Query(context.Background(), "SELECT a FROM t", nil)
		if !tc.ok(qerr) {
			t.Errorf("%s: Query: %v (%T)", name, qerr, qerr)
		}
		if qerr != nil && strings.Contains(qerr.Error(), "Bearer") {
			t.Errorf("%s: the error shows the token: %v", name, qerr)
		}
	}
}

func TestTransportErrors(t *testing.T) {
	// A network failure is returned as such.
	c, s := openStub(t, 0, "")
	s.err = errors.New("connection refused")
	if _, err := c.Exec(context.Background(), "SELECT 1", nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("network failure: %v", err)
	}
	// A context that has ended sends nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.err = nil
	n := len(s.reqs)
	if _, err := c.Query(ctx, "SELECT 1", nil); !errors.Is(err, context.Canceled) || len(s.reqs) != n {
		t.Errorf("cancelled context: %v (%d requests)", err, len(s.reqs)-n)
	}
	// A Fetcher answering nothing at all.
	c, err := d1rest.Open(d1rest.Config{AccountID: "a", DatabaseID: "d", APIToken: "t", Fetch: func(context.Context, *fetch.Request) (*fetch.Response, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(context.Background(), "SELECT 1", nil); !isResponseError(err) {
		t.Errorf("nil response: %v", err)
	}
	// A deadline while the server is slow: the request is abandoned.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	c, err = d1rest.Open(d1rest.Config{AccountID: "a", DatabaseID: "d", APIToken: "t", BaseURL: slow.URL, Fetch: nethttp.New(slow.Client())})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Exec(ctx, "SELECT 1", nil); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("deadline: %v after %v", err, time.Since(start))
	}
	// A closed Conn refuses calls.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(context.Background(), "SELECT 1", nil); !errors.Is(err, d1rest.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
