package gateway_test

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/wire/hrana"
)

// TestBadInput sends malformed requests of every kind to both protocols,
// concurrently: each gets a 4xx JSON error in the protocol's shape, the
// gateway keeps serving, and no goroutine is left behind once the servers
// close.
func TestBadInput(t *testing.T) {
	before := runtime.NumGoroutine()
	// In a subtest, whose cleanups (pools, servers) run when it ends.
	t.Run("requests", func(t *testing.T) {
		pool, _ := openPool(t, "")
		rw, ro := openSQLite(t)
		srv, url := startServer(t, gateway.Config{Postgres: pool, SQLite: rw, SQLiteReadOnly: ro, MaxBodyBytes: 4096, StreamIdle: 200 * time.Millisecond})
		defer srv.Close()
		type bad struct {
			name, path, body string
			status           int
		}
		cases := []bad{
			{"neon: not JSON", "/sql", `{"query":`, 400},
			{"neon: wrong type", "/sql", `{"query":1}`, 400},
			{"neon: array", "/sql", `[]`, 400},
			{"neon: empty", "/sql", ``, 400},
			{"neon: bad params", "/sql", `{"query":"SELECT $1","params":{}}`, 400},
			{"neon: bad UTF-8", "/sql", "{\"query\":\"SELECT '\xff'\"}", 400},
			{"neon: queries not an array", "/sql", `{"queries":{}}`, 400},
			{"neon: too large", "/sql", `{"query":"` + strings.Repeat("x", 5000) + `"}`, 413},
			{"neon: too few params", "/sql", `{"query":"SELECT $1, $2","params":["1"]}`, 400},
			{"hrana: not JSON", "/v2/pipeline", `{"requests":[`, 400},
			{"hrana: no requests", "/v2/pipeline", `{}`, 400},
			{"hrana: requests not an array", "/v2/pipeline", `{"requests":"x"}`, 400},
			{"hrana: unknown request type", "/v2/pipeline", `{"requests":[{"type":"drop_everything"}]}`, 400},
			{"hrana: execute without stmt", "/v2/pipeline", `{"requests":[{"type":"execute"}]}`, 400},
			{"hrana: stmt with sql and sql_id", "/v2/pipeline", `{"requests":[{"type":"execute","stmt":{"sql":"SELECT 1","sql_id":1}}]}`, 400},
			{"hrana: integer as a number", "/v2/pipeline", `{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":1}]}}]}`, 400},
			{"hrana: integer overflow", "/v2/pipeline", `{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"9223372036854775808"}]}}]}`, 400},
			{"hrana: bad base64", "/v2/pipeline", `{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"blob","base64":"!!"}]}}]}`, 400},
			{"hrana: unknown value type", "/v2/pipeline", `{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"date","value":"x"}]}}]}`, 400},
			{"hrana: unknown condition", "/v2/pipeline", `{"requests":[{"type":"batch","batch":{"steps":[{"condition":{"type":"maybe"},"stmt":{"sql":"SELECT 1"}}]}}]}`, 400},
			{"hrana: deep condition", "/v2/pipeline", `{"requests":[{"type":"batch","batch":{"steps":[{"condition":` + strings.Repeat(`{"type":"not","cond":`, 100) + `{"type":"ok","step":0}` + strings.Repeat(`}`, 100) + `,"stmt":{"sql":"SELECT 1"}}]}}]}`, 400},
			{"hrana: forged baton", "/v2/pipeline", `{"baton":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","requests":[]}`, 400},
			{"hrana: baton of another type", "/v2/pipeline", `{"baton":5,"requests":[]}`, 400},
			{"hrana: too large", "/v2/pipeline", `{"requests":[{"type":"sequence","sql":"` + strings.Repeat("x", 5000) + `"}]}`, 413},
			{"hrana: GET", "/v2/pipeline", ``, 405},
		}
		var wg sync.WaitGroup
		for round := range 4 {
			for _, tc := range cases {
				wg.Add(1)
				go func() {
					defer wg.Done()
					method := http.MethodPost
					if tc.name == "hrana: GET" {
						method = http.MethodGet
					}
					r := do(t, method, url+tc.path, writeSecret, tc.body, map[string]string{"Neon-Connection-String": connString})
					if r.status != tc.status {
						t.Errorf("round %d, %s: status %d, want %d: %s", round, tc.name, r.status, tc.status, r.body)
						return
					}
					protoError(t, r)
				}()
			}
		}
		wg.Wait()
		// Still serving.
		if r := neonPost(t, url, writeSecret, `{"query":"SELECT 1","params":[]}`, nil); r.status != 200 {
			t.Errorf("after bad input: %d %s", r.status, r.body)
		}
		// Streams left open and abandoned expire.
		c := &hc{t: t, url: url, token: writeSecret}
		for range 5 {
			c.must(nil, hrana.ExecuteRequest(hrana.NewStmt("BEGIN", nil, false)), hrana.ExecuteRequest(hrana.NewStmt("SELECT 1", nil, true)))
		}
		time.Sleep(600 * time.Millisecond)
		c.mustExec(`SELECT 1`)
	})
	http.DefaultClient.CloseIdleConnections()
	checkGoroutines(t, before)
}
