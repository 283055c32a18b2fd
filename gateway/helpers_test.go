package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/neon"
	wire "github.com/forge-orm/forge/wire/neon"
	"github.com/jackc/pgx/v5/pgxpool"
)

// dsn returns the test server's connection string. The test command
// (./scripts/test) starts a private PostgreSQL and sets it.
func dsn(t testing.TB) string {
	d := os.Getenv("FORGE_TEST_PG_DSN")
	if d == "" {
		forgetest.RequireService(t, "PostgreSQL (FORGE_TEST_PG_DSN)")
	}
	return d
}

var schemaSeq atomic.Int64

// openPool opens a pool whose search_path is a fresh schema, dropped when
// the test ends, in the time zone tz ("" is UTC). It returns the pool and
// the schema's name.
func openPool(t testing.TB, tz string) (*pgxpool.Pool, string) {
	t.Helper()
	return openPoolWith(t, tz, nil)
}

// openPoolWith is openPool with a change to the pool's configuration.
func openPoolWith(t testing.TB, tz string, change func(*pgxpool.Config)) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("forgegw_%d_%d", time.Now().UnixNano(), schemaSeq.Add(1))
	admin, err := pgxpool.NewWithConfig(ctx, cfg.Copy())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
		admin.Close()
	})
	if tz == "" {
		tz = "UTC"
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	cfg.ConnConfig.RuntimeParams["timezone"] = tz
	if change != nil {
		change(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, name
}

// quiet is a logger for handlers whose 5xx answers are expected.
var quiet = slog.New(slog.DiscardHandler)

// serve starts the Neon handler over pool and returns its URL.
func serve(t testing.TB, pool *pgxpool.Pool, opts gateway.NeonOptions) string {
	t.Helper()
	srv := httptest.NewServer(gateway.NewNeonHandler(pool, opts))
	t.Cleanup(srv.Close)
	return srv.URL + "/sql"
}

// connString is what the tests send as Neon-Connection-String: the
// gateway checks its form and serves its own pool.
const connString = "postgresql://forge:secret@ep-forge-test-123456.us-east-2.aws.neon.tech/forge_test?sslmode=require"

// openDriver opens forge's neon driver against the gateway at endpoint.
func openDriver(t testing.TB, endpoint string) *neon.Conn {
	t.Helper()
	c, err := neon.Open(neon.Config{ConnectionString: connString, Endpoint: endpoint, Fetch: nethttp.New(nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(r.body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("status %d, body is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return m
}

// post sends a request as the JavaScript client does, with extra headers.
func post(t testing.TB, url string, body string, headers map[string]string) *response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(wire.HeaderConnectionString, connString)
	req.Header.Set(wire.HeaderRawTextOutput, "true")
	req.Header.Set(wire.HeaderArrayMode, "true")
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
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

// mustExec runs setup SQL directly on the pool.
func mustExec(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// count returns SELECT count(*) of a table.
func count(t testing.TB, pool *pgxpool.Pool, table string) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
