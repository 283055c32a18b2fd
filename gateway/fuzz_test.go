package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/forge-orm/forge/wire/jsonx"
	wire "github.com/forge-orm/forge/wire/neon"
)

// FuzzNeonRequest sends arbitrary bodies and batch headers to the Neon
// handler. It has no pool, so whatever decodes runs into a 500 before any
// SQL: every answer must be a JSON error with a message, 400 exactly when
// the request is malformed, and never a panic. A body that decodes must
// survive a round trip through the wire types. Seeds: testdata/fuzz.
func FuzzNeonRequest(f *testing.F) {
	f.Add([]byte(`{"query":"SELECT $1","params":["42"]}`), "", "")
	f.Add([]byte(`{"queries":[{"query":"SELECT 1","params":[]}]}`), "Serializable", "true")
	h := NewNeonHandler(nil, NeonOptions{MaxRequestBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler)})
	f.Fuzz(func(t *testing.T, body []byte, isolation, readOnly string) {
		req := httptest.NewRequest(http.MethodPost, "/sql", bytes.NewReader(body))
		req.Header.Set(wire.HeaderRawTextOutput, "true")
		if isolation != "" {
			req.Header.Set(wire.HeaderBatchIsolationLevel, isolation)
		}
		if readOnly != "" {
			req.Header.Set(wire.HeaderBatchReadOnly, readOnly)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		var e wire.Error
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Message == "" {
			t.Fatalf("status %d, body %q is not a JSON error", rec.Code, rec.Body.Bytes())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		decoded, derr := wire.DecodeRequest(body)
		_, knownLevel := wire.IsolationSQL(isolation)
		refused := false // requests the handler refuses before running them
		if derr == nil {
			for _, q := range decoded.Queries {
				refused = refused || len(q.Params) > 65535 || strings.EqualFold(leadingKeyword(q.Query), "copy")
			}
		}
		switch {
		case isolation != "" && !knownLevel:
			if rec.Code != 400 || e.Message != "invalid isolation level" {
				t.Fatalf("isolation %q: %d %s", isolation, rec.Code, e.Message)
			}
			return
		case derr != nil:
			if rec.Code != 400 || !strings.HasPrefix(e.Message, "invalid request: ") {
				t.Fatalf("malformed body answered %d %q (decode: %v)", rec.Code, e.Message, derr)
			}
			return
		case refused:
			if rec.Code != 400 {
				t.Fatalf("a refused request answered %d", rec.Code)
			}
			return
		case rec.Code != 500:
			t.Fatalf("a well-formed request without a pool answered %d %q", rec.Code, e.Message)
		}
		// Decoded requests round-trip through the wire types.
		b, err := json.Marshal(*decoded)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", decoded, err)
		}
		again, err := wire.DecodeRequest(b)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		for _, r := range []*wire.Request{decoded, again} {
			for i := range r.Queries {
				if r.Queries[i].Params == nil {
					r.Queries[i].Params = []wire.Param{}
				}
			}
		}
		if !reflect.DeepEqual(decoded, again) {
			t.Fatalf("round trip:\n%+v\n%+v", decoded, again)
		}
	})
}

// TestParseNeonHeaders checks the statement that opens a transaction.
func TestParseNeonHeaders(t *testing.T) {
	for _, c := range []struct {
		h    map[string]string
		want string
	}{
		{nil, "START TRANSACTION"},
		{map[string]string{wire.HeaderBatchIsolationLevel: "RepeatableRead"}, "START TRANSACTION ISOLATION LEVEL REPEATABLE READ"},
		{map[string]string{wire.HeaderBatchReadOnly: "true", wire.HeaderBatchDeferrable: "true"}, "START TRANSACTION READ ONLY, DEFERRABLE"},
		{map[string]string{wire.HeaderBatchIsolationLevel: "Serializable", wire.HeaderBatchReadOnly: "true", wire.HeaderBatchDeferrable: "false"}, "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY"},
	} {
		h := http.Header{}
		for k, v := range c.h {
			h.Set(k, v)
		}
		o, he := parseNeonHeaders(h)
		if he != nil || o.begin != c.want {
			t.Errorf("%v: %q %v", c.h, o.begin, he)
		}
	}
	h := http.Header{}
	h[http.CanonicalHeaderKey(wire.HeaderBatchIsolationLevel)] = []string{"Serializable", "ReadCommitted"}
	if _, he := parseNeonHeaders(h); he == nil {
		t.Error("two isolation levels were accepted")
	}
}

// TestAppendString checks the JSON string writer against encoding/json.
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "\x00\x01\x1f\n\r\t\x7f", "ünï 🎉 \u2028", "bad \xff\xfe utf8 \xc3", "<&>"} {
		var back string
		b := jsonx.AppendString(nil, s)
		if err := json.Unmarshal(b, &back); err != nil {
			t.Errorf("%q: %s is not JSON: %v", s, b, err)
			continue
		}
		if want := string([]rune(s)); back != want { // each invalid byte becomes U+FFFD
			t.Errorf("%q: read back %q", s, back)
		}
		if fromBytes := jsonx.AppendString(nil, []byte(s)); !bytes.Equal(fromBytes, b) {
			t.Errorf("%q: bytes give %s, text %s", s, fromBytes, b)
		}
	}
}

func TestLeadingKeyword(t *testing.T) {
	for sql, want := range map[string]string{
		"COPY t FROM STDIN": "COPY", "  \n\tcopy t": "copy", "-- c\nCOPY": "COPY", "/* a /* nested */ b */ Copy x": "Copy",
		"/* unterminated": "", "-- only a comment": "", "": "", "SELECT 1": "SELECT", "(SELECT 1)": "SELECT",
		"WITH x AS (SELECT 1) SELECT * FROM x": "WITH", "1": "", "\f\vINSERT": "INSERT", "/**/COPY": "COPY",
	} {
		if got := leadingKeyword(sql); got != want {
			t.Errorf("leadingKeyword(%q) = %q, want %q", sql, got, want)
		}
	}
}
