package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/forge-orm/forge/wire/hrana"
)

// FuzzHranaPipeline sends arbitrary pipeline bodies to a gateway over a
// real SQLite database, with a write token. Whatever the body, the answer
// is JSON: 400 with code PROTOCOL_ERROR exactly when the body does not
// decode, else 200 with one result per request (or a 4xx stream error for
// a bad baton or too many statements), never a 5xx and never a panic. A
// stream the body leaves open is closed after each input. Seeds:
// testdata/fuzz/FuzzHranaPipeline (the requests @libsql/client sent, and
// malformed ones).
func FuzzHranaPipeline(f *testing.F) {
	f.Add([]byte(`{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"1"}]}},{"type":"close"}]}`))
	f.Add([]byte(`{"requests":[{"type":"batch","batch":{"steps":[{"stmt":{"sql":"BEGIN"}},{"condition":{"type":"ok","step":0},"stmt":{"sql":"SELECT 1"}}]}}]}`))
	rw, ro, err := OpenSQLite(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		_ = rw.Close()
		_ = ro.Close()
	})
	srv, err := NewServer(Config{SQLite: rw, SQLiteReadOnly: ro, Tokens: []Token{{Name: "w", Secret: "fuzz-secret", Role: RoleWrite}},
		StatementTimeout: 200 * time.Millisecond, StreamIdle: time.Second, MaxBodyBytes: 1 << 16, MaxRows: 100, MaxResponseBytes: 1 << 16,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = srv.Close() })
	post := func(body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v2/pipeline", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer fuzz-secret")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := post(body)
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("status %d, Content-Type %q: %s", rec.Code, ct, rec.Body.Bytes())
		}
		req, derr := hrana.DecodePipelineRequest(body)
		if rec.Code != http.StatusOK {
			var e struct{ Message, Code string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Message == "" || e.Code == "" {
				t.Fatalf("status %d, body is not a JSON error: %s", rec.Code, rec.Body.Bytes())
			}
			switch {
			case rec.Code >= 500:
				t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
			case derr != nil && (rec.Code != 400 || e.Code != "PROTOCOL_ERROR"):
				t.Fatalf("a body that does not decode (%v) answered %d %s", derr, rec.Code, rec.Body.Bytes())
			case derr == nil && e.Code == "PROTOCOL_ERROR":
				t.Fatalf("a body that decodes answered %d %s", rec.Code, rec.Body.Bytes())
			}
			return
		}
		if derr != nil {
			t.Fatalf("a body that does not decode (%v) answered 200", derr)
		}
		resp, err := hrana.DecodePipelineResponse(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("the response does not decode: %v\n%s", err, rec.Body.Bytes())
		}
		if len(resp.Results) != len(req.Requests) {
			t.Fatalf("%d results for %d requests", len(resp.Results), len(req.Requests))
		}
		for i, r := range resp.Results {
			if (r.Error == nil) == (r.Response == nil) || r.Error != nil && (r.Error.Message == "" || r.Error.Code == "") {
				t.Fatalf("result %d: %+v", i, r)
			}
		}
		if resp.Baton != nil {
			b, _ := (&hrana.PipelineRequest{Baton: resp.Baton, Requests: []hrana.StreamRequest{hrana.CloseRequest()}}).AppendJSON(nil)
			if rec := post(b); rec.Code != http.StatusOK {
				t.Fatalf("closing the stream: %d %s", rec.Code, rec.Body.Bytes())
			}
		}
	})
}
