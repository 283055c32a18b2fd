package hrana_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/forge-orm/forge/wire/hrana"
)

// TestDecodeArgsArray checks that a stmt's args decode element by element
// (strings holding commas, brackets and escaped quotes, white space,
// nested objects), and that the errors of a bad element still surface.
func TestDecodeArgsArray(t *testing.T) {
	body := `{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?, ?, ?, ?, ?","args":[ {"type":"text","value":"a, [b] {c} \"d\", \\"} ,
		{"type":"null"},{"value":"7","type":"integer"} , {"type":"blob","base64":"AQI="},{"type":"float","value":1.5} ]}}]}`
	req, err := hrana.DecodePipelineRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	args := req.Requests[0].Stmt.Args
	want := []hrana.Value{hrana.TextValue(`a, [b] {c} "d", \`), {}, hrana.IntegerValue(7), hrana.BlobValue([]byte{1, 2}), hrana.FloatValue(1.5)}
	if len(args) != len(want) {
		t.Fatalf("%d args: %+v", len(args), args)
	}
	for i := range want {
		if args[i].Kind != want[i].Kind || args[i].Text != want[i].Text || args[i].Int != want[i].Int || args[i].Float != want[i].Float || !bytes.Equal(args[i].Blob, want[i].Blob) {
			t.Errorf("arg %d: %+v, want %+v", i, args[i], want[i])
		}
	}
	for _, bad := range []string{`[{"type":"integer","value":7}]`, `[null]`, `[{"type":"null"},]`, `{"a":1}`, `[1]`} {
		body := `{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":` + bad + `}}]}`
		if _, err := hrana.DecodePipelineRequest([]byte(body)); err == nil {
			t.Errorf("args %s: no error", bad)
		}
	}
	for _, empty := range []string{`[]`, `null`, ` [ ] `} {
		body := `{"requests":[{"type":"execute","stmt":{"sql":"SELECT 1","args":` + empty + `}}]}`
		req, err := hrana.DecodePipelineRequest([]byte(body))
		if err != nil || len(req.Requests[0].Stmt.Args) != 0 {
			t.Errorf("args %s: %v %+v", empty, err, req)
		}
	}
}

// TestDecodeArgsMemory checks that decoding a 1 MiB body of null
// arguments allocates little more than the arguments themselves (the
// slice is made at its final length, not grown).
func TestDecodeArgsMemory(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[`)
	for b.Len() < 1<<20 {
		b.WriteString(`{"type":"null"},`)
	}
	body := []byte(strings.TrimSuffix(b.String(), ",") + `]}}]}`)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	req, err := hrana.DecodePipelineRequest(body)
	runtime.ReadMemStats(&m1)
	if err != nil {
		t.Fatal(err)
	}
	n := len(req.Requests[0].Stmt.Args)
	final := uint64(n) * 64 // the size of a Value
	if got := m1.TotalAlloc - m0.TotalAlloc; got > final+final/2 {
		t.Errorf("decoding %d arguments allocated %d bytes, over 1.5 times the %d of the slice", n, got, final)
	}
}
