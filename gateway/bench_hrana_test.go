package gateway_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/wire/hrana"
)

// BenchmarkHranaExecute measures one transient Hrana request (an execute
// and a close, what @libsql/client sends for execute()) through the whole
// handler, without the network: a SELECT by primary key.
func BenchmarkHranaExecute(b *testing.B) {
	rw, ro := openSQLite(b)
	srv, err := gateway.NewServer(gateway.Config{SQLite: rw, SQLiteReadOnly: ro, Tokens: testTokens(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	post := func(body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v2/pipeline", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+writeSecret)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
		return rec
	}
	pipeline := func(sql string, args ...hrana.Value) []byte {
		body, _ := (&hrana.PipelineRequest{Requests: []hrana.StreamRequest{
			hrana.ExecuteRequest(hrana.NewStmt(sql, args, true)), hrana.CloseRequest()}}).AppendJSON(nil)
		return body
	}
	post(pipeline(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)`))
	post(pipeline(`INSERT INTO t (name) VALUES ('a'), ('b'), ('c')`))
	body := pipeline(`SELECT id, name FROM t WHERE id = ?`, hrana.IntegerValue(2))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		post(body)
	}
}
