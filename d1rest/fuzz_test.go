package d1rest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/forge-orm/forge/d1rest"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
)

// FuzzDecodeResponse feeds arbitrary replies to Query and Exec: every
// outcome is rows that scan or a typed error, never a panic. Seeds are
// below and in testdata/fuzz/FuzzDecodeResponse (the REST API's documented
// replies, from /work/shared/protocols/vectors/d1rest.json, and the
// malformed ones of TestMalformedResponses).
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, []byte(okBody(rawResult(`["id","email","score","avatar","gone"]`, `[[42,"a@b.co",3.5,[1,2,255],null]]`))))
	f.Add(200, []byte(okBody(`{"success":true,"meta":{"changes":1,"last_row_id":43},"results":[]}`)))
	f.Add(200, []byte(okBody(`{"meta":{"changes":1,"last_row_id":43}}`, `{"meta":{"changes":1}}`)))
	f.Add(400, []byte(`{"result":[],"success":false,"errors":[{"code":7500,"message":"UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT"}],"messages":[]}`))
	f.Add(200, []byte(okBody(rawResult(`["a"]`, `[[9007199254740993],[-0],[1e400],[true],[{"x":1}],[[256]]]`))))
	f.Add(502, []byte("<html>Bad gateway</html>"))
	f.Add(200, []byte(`{"success":true,"result":[{"success":false,"error":"NOT NULL constraint failed: t.x"}]}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		c, err := d1rest.Open(d1rest.Config{AccountID: "a", DatabaseID: "d", APIToken: "t",
			Fetch: func(context.Context, *fetch.Request) (*fetch.Response, error) {
				return &fetch.Response{Status: status, Body: body}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(context.Background(), "UPDATE t SET x = 1", nil); err != nil {
			checkTyped(t, err)
		}
		rows, err := c.Query(context.Background(), "SELECT * FROM t", nil)
		if err != nil {
			checkTyped(t, err)
			return
		}
		defer rows.Close()
		n := len(rows.Columns())
		for rows.Next() {
			vals := make([]any, n)
			dest := make([]any, n)
			for i := range vals {
				dest[i] = &vals[i]
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatalf("scanning a decoded row into *any: %v", err)
			}
			for i := range dest {
				var i64 int64
				var s *string
				var f float64
				var b []byte
				_ = rows.Scan(replace(dest, i, &i64)...)
				_ = rows.Scan(replace(dest, i, &s)...)
				_ = rows.Scan(replace(dest, i, &f)...)
				_ = rows.Scan(replace(dest, i, &b)...)
			}
		}
	})
}

func replace(dest []any, i int, d any) []any {
	out := append([]any(nil), dest...)
	out[i] = d
	return out
}

// checkTyped fails unless err is one of the driver's typed errors.
func checkTyped(t *testing.T, err error) {
	t.Helper()
	var se *fetch.StatusError
	var ae *d1rest.APIError
	var ce *driver.ConstraintError
	var re *d1rest.ResponseError
	if !errors.As(err, &se) && !errors.As(err, &ae) && !errors.As(err, &ce) && !errors.As(err, &re) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
	if err.Error() == "" {
		t.Fatal("an empty error message")
	}
}

// TestVectors decodes the replies of the protocol notes' vectors (kept as
// fuzz seeds): the REST API's documented shapes.
func TestVectors(t *testing.T) {
	read := func(name string) (int, []byte) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzDecodeResponse", name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(data), "\n", 4)
		status, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(lines[1], "int("), ")"))
		if err != nil {
			t.Fatal(err)
		}
		body, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[2], "[]byte("), ")"))
		if err != nil {
			t.Fatal(err)
		}
		return status, []byte(body)
	}
	open := func(name string) *d1rest.Conn {
		status, body := read(name)
		c, err := d1rest.Open(d1rest.Config{AccountID: "a", DatabaseID: "d", APIToken: "t",
			Fetch: func(context.Context, *fetch.Request) (*fetch.Response, error) {
				return &fetch.Response{Status: status, Body: body}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	rows, err := open("vector-raw").Query(ctx, "SELECT id, email, name, score, avatar, gone FROM users WHERE id = ?", []any{int64(42)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows.Columns(), []string{"id", "email", "name", "score", "avatar", "gone"}) || !rows.Next() {
		t.Fatalf("columns %q", rows.Columns())
	}
	var id int64
	var email, name string
	var score float64
	var avatar []byte
	var gone *string
	if err := rows.Scan(&id, &email, &name, &score, &avatar, &gone); err != nil {
		t.Fatal(err)
	}
	if id != 42 || email != "a@b.co" || name != "Zoë" || score != 3.5 || string(avatar) != "\x01\x02\xff" || gone != nil || rows.Next() {
		t.Errorf("raw: %d %q %q %v %v %v", id, email, name, score, avatar, gone)
	}
	res, err := open("vector-insert").Exec(ctx, "INSERT INTO users (email, name) VALUES (?, ?)", []any{"c@d.co", "Cy"})
	if err != nil || res != (driver.Result{RowsAffected: 1, LastInsertID: 43, HasLastInsertID: true}) {
		t.Errorf("insert: %+v %v", res, err)
	}
	res, err = open("vector-multi-statement-sql").Exec(ctx, "INSERT INTO ledger (account_id, delta) VALUES (2, 100); UPDATE accounts SET balance = balance + 100 WHERE id = 2", nil)
	if err != nil || res != (driver.Result{RowsAffected: 2}) {
		t.Errorf("script: %+v %v", res, err)
	}
	_, err = open("vector-error").Exec(ctx, "INSERT INTO users (email) VALUES (?)", []any{"a@b.co"})
	var ce *driver.ConstraintError
	var ae *d1rest.APIError
	if !errors.As(err, &ce) || ce.Kind != driver.Unique || ce.Table != "users" || !slices.Equal(ce.Columns, []string{"email"}) || !errors.As(err, &ae) || ae.Status != 400 || ae.Code() != 7500 {
		t.Errorf("error: %v (%#v)", err, ce)
	}
	// /query's rows as objects are not mistaken for /raw's.
	if _, err := open("vector-select").Query(ctx, "SELECT 1", nil); !isResponseError(err) {
		t.Errorf("a /query reply to a /raw call: %v", err)
	}
}
