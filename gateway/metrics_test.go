package gateway_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/wire/hrana"
)

// TestMetrics checks /metrics: the Prometheus text format, with requests
// by protocol and status, errors by code, the latency histogram, open
// streams and requests in flight; and request ids.
func TestMetrics(t *testing.T) {
	pool, _ := openPool(t, "")
	rw, ro := openSQLite(t)
	_, url := startServer(t, gateway.Config{Postgres: pool, SQLite: rw, SQLiteReadOnly: ro})
	neonPost(t, url, writeSecret, `{"query":"SELECT 1","params":[]}`, nil)
	neonPost(t, url, writeSecret, `{"query":"SELEC 1","params":[]}`, nil)
	neonPost(t, url, "wrong", `{"query":"SELECT 1","params":[]}`, nil)
	c := &hc{t: t, url: url, token: writeSecret}
	c.mustExec(`SELECT 1`)
	c.exec(`INSERT INTO nope VALUES (1)`)
	resp := c.must(nil, hrana.ExecuteRequest(hrana.NewStmt("SELECT 1", nil, true)))
	r := do(t, http.MethodGet, url+"/metrics", readSecret, "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("metrics: %d %s", r.status, r.header.Get("Content-Type"))
	}
	m := string(r.body)
	for _, want := range []string{
		`forge_gateway_requests_total{protocol="neon",status="200"} 1`,
		`forge_gateway_requests_total{protocol="neon",status="400"} 1`,
		`forge_gateway_requests_total{protocol="neon",status="401"} 1`,
		`forge_gateway_requests_total{protocol="hrana",status="200"} 3`,
		`forge_gateway_errors_total{protocol="neon",code="42601"} 1`,
		`forge_gateway_errors_total{protocol="neon",code="UNAUTHORIZED"} 1`,
		`forge_gateway_errors_total{protocol="hrana",code="SQLITE_ERROR"} 1`,
		`forge_gateway_request_duration_seconds_bucket{protocol="neon",le="+Inf"} 3`,
		`forge_gateway_request_duration_seconds_count{protocol="hrana"} 3`,
		`forge_gateway_open_streams 1`,
		`forge_gateway_in_flight_requests 1`,
		"# TYPE forge_gateway_request_duration_seconds histogram",
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	// Every line is a comment or "name{labels} value".
	line := regexp.MustCompile(`^(# (HELP|TYPE) .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eInf]+)$`)
	for _, l := range strings.Split(strings.TrimSuffix(m, "\n"), "\n") {
		if !line.MatchString(l) {
			t.Errorf("not exposition format: %q", l)
		}
	}
	c.must(resp.Baton, hrana.CloseRequest())
	// Request ids: a sane one is echoed, else one is made.
	if r := do(t, http.MethodGet, url+"/healthz", "", "", map[string]string{"X-Request-Id": "abc-123"}); r.header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("id not echoed: %q", r.header.Get("X-Request-Id"))
	}
	for _, bad := range []string{"", "has space", strings.Repeat("x", 200)} {
		r := do(t, http.MethodGet, url+"/healthz", "", "", map[string]string{"X-Request-Id": bad})
		if id := r.header.Get("X-Request-Id"); len(id) != 24 {
			t.Errorf("%q: id %q", bad, id)
		}
	}
}
