package hrana_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/forge-orm/forge/wire/hrana"
)

func TestValueRoundTrip(t *testing.T) {
	cases := []struct {
		v    hrana.Value
		json string
	}{
		{hrana.Value{}, `{"type":"null"}`},
		{hrana.IntegerValue(math.MinInt64), `{"type":"integer","value":"-9223372036854775808"}`},
		{hrana.IntegerValue(math.MaxInt64), `{"type":"integer","value":"9223372036854775807"}`},
		{hrana.IntegerValue(1<<53 + 1), `{"type":"integer","value":"9007199254740993"}`},
		{hrana.IntegerValue(0), `{"type":"integer","value":"0"}`},
		{hrana.FloatValue(42), `{"type":"float","value":42}`},
		{hrana.FloatValue(3.14), `{"type":"float","value":3.14}`},
		{hrana.FloatValue(-1.5e300), `{"type":"float","value":-1.5e+300}`},
		{hrana.FloatValue(5e-324), `{"type":"float","value":5e-324}`},
		{hrana.FloatValue(1e-7), `{"type":"float","value":1e-7}`},
		{hrana.FloatValue(1e21), `{"type":"float","value":1e+21}`},
		{hrana.TextValue(""), `{"type":"text","value":""}`},
		{hrana.TextValue("it's \"Zoë\"\n\t\\ \x00\x1f <&> \u2028"), `{"type":"text","value":"it's \"Zoë\"\n\t\\ \u0000\u001f <&> \u2028"}`},
		{hrana.BlobValue([]byte{1, 2, 255}), `{"type":"blob","base64":"AQL/"}`},
		{hrana.BlobValue([]byte{0, 0, 0, 1, 0}), `{"type":"blob","base64":"AAAAAQA="}`},
		{hrana.BlobValue([]byte{}), `{"type":"blob","base64":""}`},
	}
	for _, c := range cases {
		got, err := c.v.AppendJSON(nil)
		if err != nil {
			t.Fatalf("%v: %v", c.v, err)
		}
		if string(got) != c.json {
			t.Errorf("encode %v: %s, want %s", c.v, got, c.json)
		}
		if !json.Valid(got) {
			t.Errorf("encode %v: invalid JSON %s", c.v, got)
		}
		// encoding/json agrees on every string and float.
		var generic map[string]any
		if err := json.Unmarshal(got, &generic); err != nil {
			t.Fatal(err)
		}
		if c.v.Kind == hrana.Text && generic["value"] != c.v.Text {
			t.Errorf("text %q reads back as %q", c.v.Text, generic["value"])
		}
		if c.v.Kind == hrana.Float && generic["value"] != c.v.Float {
			t.Errorf("float %v reads back as %v", c.v.Float, generic["value"])
		}
		var back hrana.Value
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("decode %s: %v", got, err)
		}
		if !reflect.DeepEqual(back, c.v) && !(c.v.Kind == hrana.Blob && bytes.Equal(back.Blob, c.v.Blob) && back.Kind == hrana.Blob) {
			t.Errorf("round trip of %s: %#v, want %#v", got, back, c.v)
		}
	}
}

func TestValueAny(t *testing.T) {
	if got := (hrana.Value{}).Any(); got != nil {
		t.Errorf("NULL: %v", got)
	}
	if got := hrana.IntegerValue(-7).Any(); got != int64(-7) {
		t.Errorf("integer: %#v", got)
	}
	if got := hrana.FloatValue(2.5).Any(); got != 2.5 {
		t.Errorf("float: %#v", got)
	}
	if got := hrana.TextValue("x").Any(); got != "x" {
		t.Errorf("text: %#v", got)
	}
	if got, ok := hrana.BlobValue(nil).Any().([]byte); !ok || got == nil || len(got) != 0 {
		t.Errorf("empty blob: %#v (an empty blob is not NULL)", got)
	}
}

func TestNonFiniteFloats(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := hrana.FloatValue(f).AppendJSON(nil)
		if !errors.Is(err, hrana.ErrNonFiniteFloat) {
			t.Errorf("%v: %v, want ErrNonFiniteFloat", f, err)
		}
		req := hrana.PipelineRequest{Requests: []hrana.StreamRequest{hrana.ExecuteRequest(hrana.NewStmt("SELECT ?", []hrana.Value{hrana.FloatValue(f)}, true))}}
		_, err = req.AppendJSON(nil)
		var ee *hrana.EncodeError
		if !errors.As(err, &ee) || !errors.Is(err, hrana.ErrNonFiniteFloat) || !strings.Contains(err.Error(), "argument 1") {
			t.Errorf("request with %v: %v", f, err)
		}
		if _, err := json.Marshal(&req); !errors.Is(err, hrana.ErrNonFiniteFloat) {
			t.Errorf("json.Marshal of a request with %v: %v", f, err)
		}
	}
}

func TestValueDecodeAccepts(t *testing.T) {
	cases := map[string]hrana.Value{
		`{"type":"blob","base64":"AQL/"}`:              hrana.BlobValue([]byte{1, 2, 255}),
		`{"type":"blob","base64":"AAE"}`:               hrana.BlobValue([]byte{0, 1}), // sqld's unpadded form
		`{"type":"blob","base64":"AAE="}`:              hrana.BlobValue([]byte{0, 1}),
		`{"type":"blob","base64":"AA"}`:                hrana.BlobValue([]byte{0}),
		`{"type":"blob","base64":"AA=="}`:              hrana.BlobValue([]byte{0}),
		`{"type":"float","value":100000.0}`:            hrana.FloatValue(1e5),
		`{"type":"float","value":-0}`:                  hrana.FloatValue(0),
		`{"type":"float","value":1E3}`:                 hrana.FloatValue(1000),
		`{"type":"integer","value":"-0"}`:              hrana.IntegerValue(0),
		` { "value" : "12" , "type" : "integer" } `:    hrana.IntegerValue(12),
		`{"type":"text","value":"\u00e9\ud83d\ude00"}`: hrana.TextValue("é😀"),
		`{"type":"null","value":"ignored"}`:            {},
		`{"type":"text","value":"x","extra":[1,{}]}`:   hrana.TextValue("x"),
	}
	for in, want := range cases {
		var v hrana.Value
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if v.Kind != want.Kind || v.Int != want.Int || v.Float != want.Float || v.Text != want.Text || !bytes.Equal(v.Blob, want.Blob) {
			t.Errorf("%s: %#v, want %#v", in, v, want)
		}
	}
}

func TestValueDecodeRejects(t *testing.T) {
	cases := map[string]string{
		`null`:                            "not a JSON object",
		`"x"`:                             "not a JSON object",
		`[]`:                              "not a JSON object",
		`{}`:                              `missing "type"`,
		`{"type":null}`:                   `missing "type"`,
		`{"type":"bigint","value":"1"}`:   "unknown value type",
		`{"type":"INTEGER","value":"1"}`:  "unknown value type",
		`{"type":"integer","value":1}`:    "decimal string",
		`{"type":"integer"}`:              "decimal string",
		`{"type":"integer","value":null}`: "decimal string",
		`{"type":"integer","value":"9223372036854775808"}`:  "not a 64-bit decimal integer",
		`{"type":"integer","value":"-9223372036854775809"}`: "not a 64-bit decimal integer",
		`{"type":"integer","value":"1.5"}`:                  "not a 64-bit decimal integer",
		`{"type":"integer","value":"0x10"}`:                 "not a 64-bit decimal integer",
		`{"type":"integer","value":""}`:                     "not a 64-bit decimal integer",
		`{"type":"integer","value":" 1"}`:                   "not a 64-bit decimal integer",
		`{"type":"float","value":null}`:                     "NaN and ±Inf",
		`{"type":"float"}`:                                  "NaN and ±Inf",
		`{"type":"float","value":"1.5"}`:                    "JSON number",
		`{"type":"float","value":1e400}`:                    "not a finite float64",
		`{"type":"text","value":5}`:                         "must be a string",
		`{"type":"text"}`:                                   "must be a string",
		`{"type":"blob","value":"AQL/"}`:                    `missing "base64"`,
		`{"type":"blob","base64":"A"}`:                      "bad base64",
		`{"type":"blob","base64":"AQL*"}`:                   "bad base64",
		`{"type":"blob","base64":"AQ=L"}`:                   "bad base64",
		`{"type":"blob","base64":"AQ="}`:                    "bad base64",
		`{"type":"blob","base64":"-_-_"}`:                   "bad base64",
		`{"type":"blob","base64":5}`:                        "malformed",
		`{"type":"integer","value":"1"`:                     "malformed",
	}
	for in, want := range cases {
		var v hrana.Value
		err := v.UnmarshalJSON([]byte(in))
		var ve *hrana.ValueError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a *ValueError saying %q", in, err, want)
		}
		// Inside a response, the same input is a *DecodeError.
		body := `{"baton":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"a"}],"rows":[[` + in + `]],"affected_row_count":0}}}]}`
		_, err = hrana.DecodePipelineResponse([]byte(body))
		var de *hrana.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("response with %s: %v, want a *DecodeError", in, err)
		}
	}
}

func TestDecodePipelineResponseRejects(t *testing.T) {
	ok := func(result string) string {
		return `{"baton":null,"results":[{"type":"ok","response":{"type":"execute","result":` + result + `}}]}`
	}
	cases := map[string]string{
		``:                               "empty input",
		`   `:                            "empty input",
		`null`:                           "want a JSON object",
		`[]`:                             "want a JSON object",
		`"results"`:                      "want a JSON object",
		`<html>oops</html>`:              "invalid character",
		`{"results":[]} trailing`:        "invalid character",
		`{"baton":null}`:                 `missing "results"`,
		`{"results":null}`:               `missing "results"`,
		`{"results":{}}`:                 "cannot unmarshal",
		`{"baton":5,"results":[]}`:       "cannot unmarshal",
		`{"results":[null]}`:             "is null",
		`{"results":[{}]}`:               `missing "type"`,
		`{"results":[{"type":"maybe"}]}`: "unknown result type",
		`{"results":[{"type":"ok"}]}`:    `without a "response"`,
		`{"results":[{"type":"error"}]}`: "missing error object",
		`{"results":[{"type":"error","error":{}}]}`:                                                                       `missing "message"`,
		`{"results":[{"type":"ok","response":{}}]}`:                                                                       `missing "type"`,
		`{"results":[{"type":"ok","response":{"type":"cursor"}}]}`:                                                        "unknown response type",
		`{"results":[{"type":"ok","response":{"type":"execute"}}]}`:                                                       `without a "result"`,
		`{"results":[{"type":"ok","response":{"type":"execute","result":7}}]}`:                                            "cannot unmarshal",
		`{"results":[{"type":"ok","response":{"type":"get_autocommit"}}]}`:                                                `without "is_autocommit"`,
		ok(`{"rows":[],"affected_row_count":0}`):                                                                          `missing "cols"`,
		ok(`{"cols":[],"affected_row_count":0}`):                                                                          `missing "rows"`,
		ok(`{"cols":[],"rows":[]}`):                                                                                       `missing "affected_row_count"`,
		ok(`{"cols":[],"rows":[],"affected_row_count":-1}`):                                                               "cannot unmarshal",
		ok(`{"cols":[],"rows":[],"affected_row_count":1.5}`):                                                              "cannot unmarshal",
		ok(`{"cols":[],"rows":[],"affected_row_count":"1"}`):                                                              "cannot unmarshal",
		ok(`{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":"x"}`):                                        "not a 64-bit decimal integer",
		ok(`{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":12}`):                                         "cannot unmarshal",
		ok(`{"cols":[null],"rows":[],"affected_row_count":0}`):                                                            "cols[0] is null",
		ok(`{"cols":[{"name":1}],"rows":[],"affected_row_count":0}`):                                                      "cannot unmarshal",
		ok(`{"cols":[{"name":"a"}],"rows":[[]],"affected_row_count":0}`):                                                  "has 0 values for 1 columns",
		ok(`{"cols":[],"rows":[null],"affected_row_count":0}`):                                                            "rows[0] is not an array",
		ok(`{"cols":[{"name":"a"}],"rows":[[null]],"affected_row_count":0}`):                                              "not a JSON object",
		ok(`{"cols":[{"name":"a"}],"rows":[[{"type":"integer","value":"99999999999999999999"}]],"affected_row_count":0}`): "not a 64-bit decimal integer",
		`{"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[]}}}]}`:                            `missing "step_errors"`,
		`{"results":[{"type":"ok","response":{"type":"batch","result":{"step_errors":[]}}}]}`:                             `missing "step_results"`,
		`{"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[null],"step_errors":[]}}}]}`:       "1 step results but 0 step errors",
		`{"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[],"rows":[],"affected_row_count":0}],"step_errors":[{"message":"x"}]}}}]}`: "both a result and an error",
		`{"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[null],"step_errors":[{}]}}}]}`:                                                      `missing "message"`,
		`{"results":[{"type":"ok","response":{"type":"describe","result":{"params":[]}}}]}`:                                                                                "a describe result needs",
	}
	for in, want := range cases {
		r, err := hrana.DecodePipelineResponse([]byte(in))
		var de *hrana.DecodeError
		if !errors.As(err, &de) || r != nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n  got %v (%v)\n  want a *DecodeError saying %q", in, err, r, want)
		}
	}
}

func TestDecodePipelineRequestRejects(t *testing.T) {
	step := func(cond string) string {
		return `{"requests":[{"type":"batch","batch":{"steps":[{"condition":` + cond + `,"stmt":{"sql":"SELECT 1"}}]}}]}`
	}
	deep := `{"type":"ok","step":0}`
	for i := 0; i < 100; i++ {
		deep = `{"type":"not","cond":` + deep + `}`
	}
	cases := map[string]string{
		`{}`:                                `missing "requests"`,
		`{"requests":[{"type":"execute"}]}`: `without a "stmt"`,
		`{"requests":[{"type":"execute","stmt":{}}]}`:                                      `exactly one of "sql" and "sql_id"`,
		`{"requests":[{"type":"execute","stmt":{"sql":"x","sql_id":1}}]}`:                  `exactly one of "sql" and "sql_id"`,
		`{"requests":[{"type":"execute","stmt":{"sql":"x","args":[null]}}]}`:               "not a JSON object",
		`{"requests":[{"type":"execute","stmt":{"sql":"x","named_args":[{"name":"a"}]}}]}`: `needs a "name" and a "value"`,
		`{"requests":[{"type":"execute","stmt":{"sql_id":2147483648}}]}`:                   "cannot unmarshal",
		`{"requests":[{"type":"batch"}]}`:                                                  `without a "batch"`,
		`{"requests":[{"type":"batch","batch":{"steps":[{}]}}]}`:                           `needs a "stmt"`,
		`{"requests":[{"type":"store_sql","sql":"x"}]}`:                                    `needs "sql" and "sql_id"`,
		`{"requests":[{"type":"close_sql"}]}`:                                              `needs "sql_id"`,
		`{"requests":[{"type":"sequence"}]}`:                                               `exactly one of "sql" and "sql_id"`,
		`{"requests":[{"type":"open_stream"}]}`:                                            "unknown request type",
		step(`{"type":"ok"}`):                                                              `without a "step"`,
		step(`{"type":"ok","step":-1}`):                                                    "cannot unmarshal",
		step(`{"type":"not"}`):                                                             `without a "cond"`,
		step(`{"type":"and"}`):                                                             `without "conds"`,
		step(`{"type":"or","conds":[null]}`):                                               "want a JSON object",
		step(`{"type":"xor","conds":[]}`):                                                  "unknown condition type",
		step(deep):                                                                         "nested deeper than",
	}
	for in, want := range cases {
		r, err := hrana.DecodePipelineRequest([]byte(in))
		var de *hrana.DecodeError
		if !errors.As(err, &de) || r != nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n  got %v\n  want a *DecodeError saying %q", in, err, want)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	sql := "SELECT 1"
	id := int32(1)
	cases := map[string]hrana.StreamRequest{
		"execute request without a stmt":  {Type: hrana.TypeExecute},
		"batch request without a batch":   {Type: hrana.TypeBatch},
		"exactly one of sql and sql_id":   {Type: hrana.TypeSequence, SQL: &sql, SQLID: &id},
		"store_sql request needs sql":     {Type: hrana.TypeStoreSQL, SQL: &sql},
		"close_sql request without":       {Type: hrana.TypeCloseSQL},
		"request of unknown type":         {Type: "nope"},
		"stmt needs exactly one":          hrana.ExecuteRequest(hrana.Stmt{}),
		"not condition without a cond":    hrana.BatchRequest(hrana.BatchStep{Condition: &hrana.BatchCond{Type: "not"}, Stmt: hrana.NewStmt(sql, nil, false)}),
		"batch condition of unknown type": hrana.BatchRequest(hrana.BatchStep{Condition: &hrana.BatchCond{Type: "xor"}, Stmt: hrana.NewStmt(sql, nil, false)}),
	}
	for want, q := range cases {
		req := hrana.PipelineRequest{Requests: []hrana.StreamRequest{q}}
		_, err := req.AppendJSON(nil)
		var ee *hrana.EncodeError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want an *EncodeError saying %q", q, err, want)
		}
	}
}

// TestConstructors checks the shapes the constructors produce against the
// Hrana spec's JSON.
func TestConstructors(t *testing.T) {
	yes := true
	cases := map[string]hrana.StreamRequest{
		`{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"1"}],"named_args":[],"want_rows":true}}`: hrana.ExecuteRequest(hrana.NewStmt("SELECT ?", []hrana.Value{hrana.IntegerValue(1)}, true)),
		`{"type":"execute","stmt":{"sql":"SELECT :a","args":[],"named_args":[{"name":"a","value":{"type":"null"}}],"want_rows":true}}`: hrana.ExecuteRequest(func() hrana.Stmt {
			s := hrana.NewStmt("SELECT :a", nil, true)
			s.NamedArgs = []hrana.NamedArg{{Name: "a"}}
			return s
		}()),
		`{"type":"execute","stmt":{"sql_id":3,"args":[],"named_args":[]}}`:          hrana.ExecuteRequest(hrana.Stmt{SQLID: ptr(int32(3))}),
		`{"type":"sequence","sql":"CREATE TABLE t (a); INSERT INTO t VALUES (1);"}`: hrana.SequenceRequest("CREATE TABLE t (a); INSERT INTO t VALUES (1);"),
		`{"type":"describe","sql":"SELECT 1"}`:                                      hrana.DescribeRequest("SELECT 1"),
		`{"type":"store_sql","sql_id":0,"sql":"SELECT 1"}`:                          hrana.StoreSQLRequest(0, "SELECT 1"),
		`{"type":"close_sql","sql_id":0}`:                                           hrana.CloseSQLRequest(0),
		`{"type":"get_autocommit"}`:                                                 hrana.GetAutocommitRequest(),
		`{"type":"close"}`:                                                          hrana.CloseRequest(),
		`{"type":"batch","batch":{"steps":[{"stmt":{"sql":"BEGIN","args":[],"named_args":[],"want_rows":false}},{"condition":{"type":"and","conds":[{"type":"ok","step":0},{"type":"not","cond":{"type":"error","step":0}},{"type":"or","conds":[]},{"type":"is_autocommit"}]},"stmt":{"sql":"COMMIT","args":[],"named_args":[],"want_rows":true}}]}}`: hrana.BatchRequest(
			hrana.BatchStep{Stmt: hrana.NewStmt("BEGIN", nil, false)},
			hrana.BatchStep{Condition: ptr(hrana.CondAnd(hrana.CondOK(0), hrana.CondNot(hrana.CondError(0)), hrana.CondOr(), hrana.CondIsAutocommit())), Stmt: hrana.Stmt{SQL: ptr("COMMIT"), WantRows: &yes}},
		),
	}
	for want, q := range cases {
		got, err := q.AppendJSON(nil)
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		if string(got) != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		// And it reads back to the same request.
		body := `{"requests":[` + string(got) + `]}`
		r, err := hrana.DecodePipelineRequest([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		again, err := r.Requests[0].AppendJSON(nil)
		if err != nil || string(again) != want {
			t.Errorf("re-encoded %s (%v), want %s", again, err, want)
		}
	}
	v3 := hrana.PipelineRequest{Requests: []hrana.StreamRequest{cases[`{"type":"get_autocommit"}`]}}
	if v3.Version() != 3 {
		t.Error("get_autocommit does not need version 3")
	}
	v2 := hrana.PipelineRequest{Requests: []hrana.StreamRequest{hrana.CloseRequest()}}
	if v2.Version() != 2 {
		t.Error("close needs version 3")
	}
}

func ptr[T any](v T) *T { return &v }

// vectors is the file of requests and responses captured between
// @libsql/client 0.18.0 and a server (a copy of
// /work/shared/protocols/vectors/libsql.json).
type vectors struct {
	Cases map[string]struct {
		Requests []struct {
			Method   string          `json:"method"`
			Path     string          `json:"path"`
			Body     json.RawMessage `json:"body"`
			Response struct {
				Status  int               `json:"status"`
				Headers map[string]string `json:"headers"`
				Body    json.RawMessage   `json:"body"`
			} `json:"response"`
		} `json:"requests"`
	} `json:"cases"`
}

func loadVectors(t testing.TB) vectors {
	data, err := os.ReadFile("testdata/libsql-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func generic(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return normalizeNumbers(v)
}

// normalizeNumbers makes 42 and 42.0 compare equal (both are the same
// float on the wire).
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeNumbers(x[k])
		}
	}
	return v
}

// TestVectors decodes every request and response the real JavaScript
// client exchanged and encodes them again: the JSON must be the same
// (same fields, same values), so forge reads and writes exactly the
// shapes @libsql/client does.
func TestVectors(t *testing.T) {
	v := loadVectors(t)
	n := 0
	for name, c := range v.Cases {
		for i, r := range c.Requests {
			if r.Method != "POST" || r.Path != "/v2/pipeline" {
				continue
			}
			req, err := hrana.DecodePipelineRequest(r.Body)
			if err != nil {
				t.Fatalf("%s[%d] request: %v", name, i, err)
			}
			enc, err := req.AppendJSON(nil)
			if err != nil {
				t.Fatalf("%s[%d] request: %v", name, i, err)
			}
			if !reflect.DeepEqual(generic(t, enc), generic(t, r.Body)) {
				t.Errorf("%s[%d] request:\n got  %s\n want %s", name, i, enc, r.Body)
			}
			n++
			switch {
			case r.Response.Status == 200:
				resp, err := hrana.DecodePipelineResponse(r.Response.Body)
				if err != nil {
					t.Fatalf("%s[%d] response: %v", name, i, err)
				}
				if len(resp.Results) != len(req.Requests) {
					t.Errorf("%s[%d]: %d results for %d requests", name, i, len(resp.Results), len(req.Requests))
				}
				enc, err := resp.AppendJSON(nil)
				if err != nil {
					t.Fatalf("%s[%d] response: %v", name, i, err)
				}
				if !reflect.DeepEqual(generic(t, enc), generic(t, r.Response.Body)) {
					t.Errorf("%s[%d] response:\n got  %s\n want %s", name, i, enc, r.Response.Body)
				}
				n++
			case r.Response.Headers["content-type"] == "application/json":
				e, err := hrana.DecodeErrorBody(r.Response.Body)
				if err != nil {
					t.Fatalf("%s[%d] error body: %v", name, i, err)
				}
				if e.Code != "STREAM_EXPIRED" || e.Message != "Internal error: stream expired" {
					t.Errorf("%s[%d]: %+v", name, i, e)
				}
				n++
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d messages checked", n)
	}
}

// TestVectorValues checks decoded values of the captured select against
// what they mean.
func TestVectorValues(t *testing.T) {
	v := loadVectors(t)
	resp, err := hrana.DecodePipelineResponse(v.Cases["select-intmode-bigint"].Requests[0].Response.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := resp.Results[0].Response.Execute
	var got []any
	for _, val := range res.Rows[0] {
		got = append(got, val.Any())
	}
	want := []any{int64(42), "a@b.co", "Zoë", "2024-01-02T03:04:05.678Z", 3.5, int64(math.MaxInt64), []byte{1, 2, 255}, nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("row %#v, want %#v", got, want)
	}
	if *res.Cols[5].Name != "big" || *res.Cols[5].Decltype != "INTEGER" || res.LastInsertRowID != nil {
		t.Errorf("cols %+v, last insert rowid %v", res.Cols, res.LastInsertRowID)
	}
	ins, err := hrana.DecodePipelineResponse(v.Cases["insert"].Requests[0].Response.Body)
	if err != nil {
		t.Fatal(err)
	}
	if r := ins.Results[0].Response.Execute; r.AffectedRowCount != 1 || r.LastInsertRowID == nil || *r.LastInsertRowID != 43 {
		t.Errorf("insert result %+v", r)
	}
	b, err := hrana.DecodePipelineResponse(v.Cases["error-in-batch"].Requests[0].Response.Body)
	if err != nil {
		t.Fatal(err)
	}
	br := b.Results[1].Response.Batch
	if br.StepResults[2] != nil || br.StepErrors[2] == nil || br.StepErrors[2].Code != "SQLITE_CONSTRAINT" || br.StepResults[3] != nil || br.StepErrors[3] != nil || br.StepResults[4] == nil {
		t.Errorf("batch result %+v", br)
	}
	if got := br.StepErrors[2].Error(); got != "SQLITE_CONSTRAINT: SQLITE_CONSTRAINT: SQLite error: UNIQUE constraint failed: users.email" {
		t.Errorf("error text %q", got)
	}
}

// TestSQLDResponseExtras decodes a response as sqld 0.24 writes it, with
// fields beyond the v2 spec.
func TestSQLDResponseExtras(t *testing.T) {
	body := `{"baton":"PuoC","base_url":"https://replica.example/db/","results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"v","decltype":null}],"rows":[[{"type":"blob","base64":"AAE"}],[{"type":"float","value":100000.0}]],"affected_row_count":3,"last_insert_rowid":"3","replication_index":"2","rows_read":1,"rows_written":3,"query_duration_ms":0.126}}},{"type":"ok","response":{"type":"get_autocommit","is_autocommit":false}},{"type":"ok","response":{"type":"describe","result":{"params":[{"name":null},{"name":":a"}],"cols":[{"name":"id","decltype":"INTEGER"}],"is_explain":false,"is_readonly":true}}},{"type":"error","error":{"message":"SQL string contains more than one statement","code":"SQL_MANY_STATEMENTS"}}]}`
	r, err := hrana.DecodePipelineResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ex := r.Results[0].Response.Execute
	if *r.Baton != "PuoC" || *r.BaseURL != "https://replica.example/db/" || !bytes.Equal(ex.Rows[0][0].Blob, []byte{0, 1}) || ex.Rows[1][0].Float != 1e5 ||
		*ex.RowsRead != 1 || *ex.RowsWritten != 3 || *ex.QueryDurationMS != 0.126 || *ex.LastInsertRowID != 3 {
		t.Errorf("execute %+v", ex)
	}
	if r.Results[1].Response.IsAutocommit {
		t.Error("is_autocommit")
	}
	d := r.Results[2].Response.Describe
	if len(d.Params) != 2 || d.Params[0].Name != nil || *d.Params[1].Name != ":a" || !d.IsReadonly || d.Cols[0].Name != "id" {
		t.Errorf("describe %+v", d)
	}
	if e := r.Results[3].Error; e == nil || e.Code != "SQL_MANY_STATEMENTS" {
		t.Errorf("error %+v", e)
	}
	// json.Unmarshal applies the same checks.
	var viaJSON hrana.PipelineResponse
	if err := json.Unmarshal([]byte(body), &viaJSON); err != nil || !reflect.DeepEqual(&viaJSON, r) {
		t.Errorf("json.Unmarshal: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"baton":null}`), &viaJSON); err == nil {
		t.Error("json.Unmarshal accepted a response without results")
	}
}

func TestDecodeErrorBody(t *testing.T) {
	e, err := hrana.DecodeErrorBody([]byte(`{"message":"Internal error: stream expired","code":"STREAM_EXPIRED"}`))
	if err != nil || e.Code != "STREAM_EXPIRED" || e.Error() != "STREAM_EXPIRED: Internal error: stream expired" {
		t.Errorf("%+v %v", e, err)
	}
	e, err = hrana.DecodeErrorBody([]byte(`{"message":"boom","code":null}`))
	if err != nil || e.Code != "" || e.Error() != "boom" {
		t.Errorf("%+v %v", e, err)
	}
	for _, bad := range []string{``, `null`, `{}`, `{"message":1}`, `not json`} {
		if _, err := hrana.DecodeErrorBody([]byte(bad)); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func BenchmarkDecodeRows(b *testing.B) {
	data := rowsResponse()
	for _, d := range []struct {
		name   string
		decode func([]byte) (*hrana.PipelineResponse, error)
	}{{"fast", hrana.DecodePipelineResponse}, {"encoding-json", hrana.DecodePipelineResponseStd}} {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rowsResponse is a response of 1000 rows of five values of every kind.
func rowsResponse() []byte {
	var sb strings.Builder
	sb.WriteString(`{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"id","decltype":"INTEGER"},{"name":"email","decltype":"TEXT"},{"name":"score","decltype":"REAL"},{"name":"avatar","decltype":"BLOB"},{"name":"gone","decltype":"TEXT"}],"rows":[`)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`[{"type":"integer","value":"42"},{"type":"text","value":"someone@example.com"},{"type":"float","value":3.5},{"type":"blob","base64":"AQL/"},{"type":"null"}]`)
	}
	sb.WriteString(`],"affected_row_count":0,"last_insert_rowid":null}}},{"type":"ok","response":{"type":"close"}}]}`)
	return []byte(sb.String())
}

// TestEncodingJSON checks that encoding/json, on values and pointers,
// writes and reads every message type exactly as the codecs do.
func TestEncodingJSON(t *testing.T) {
	v := loadVectors(t)
	for name, c := range v.Cases {
		for _, r := range c.Requests {
			if r.Method != "POST" {
				continue
			}
			req, err := hrana.DecodePipelineRequest(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := req.AppendJSON(nil)
			for _, x := range []any{*req, req} {
				got, err := json.Marshal(x)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: json.Marshal(%T) = %s, %v; want %s", name, x, got, err, want)
				}
			}
			var viaJSON hrana.PipelineRequest
			if err := json.Unmarshal(r.Body, &viaJSON); err != nil || !reflect.DeepEqual(&viaJSON, req) {
				t.Errorf("%s: json.Unmarshal of the request: %v", name, err)
			}
			for i, q := range req.Requests {
				enc, err := json.Marshal(q)
				if err != nil {
					t.Fatal(err)
				}
				var back hrana.StreamRequest
				if err := json.Unmarshal(enc, &back); err != nil || !reflect.DeepEqual(back, q) {
					t.Errorf("%s: request %d: %s read back as %+v (%v)", name, i, enc, back, err)
				}
			}
			if r.Response.Status != 200 {
				continue
			}
			resp, err := hrana.DecodePipelineResponse(r.Response.Body)
			if err != nil {
				t.Fatal(err)
			}
			want, _ = resp.AppendJSON(nil)
			if got, err := json.Marshal(*resp); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: json.Marshal(response) = %s, %v", name, got, err)
			}
			for i, res := range resp.Results {
				enc, err := json.Marshal(res)
				if err != nil {
					t.Fatal(err)
				}
				var back hrana.StreamResult
				if err := json.Unmarshal(enc, &back); err != nil || !reflect.DeepEqual(back, res) {
					t.Errorf("%s: result %d: %s read back as %+v (%v)", name, i, enc, back, err)
				}
				if res.Response != nil && res.Response.Execute != nil {
					enc, _ := json.Marshal(*res.Response.Execute)
					var sr hrana.StmtResult
					if err := json.Unmarshal(enc, &sr); err != nil || !reflect.DeepEqual(&sr, res.Response.Execute) {
						t.Errorf("%s: StmtResult %s: %v", name, enc, err)
					}
				}
			}
		}
	}
	// The json.Unmarshalers check shapes as the decoders do.
	var sr hrana.StmtResult
	if err := json.Unmarshal([]byte(`{"cols":[]}`), &sr); err == nil {
		t.Error("a StmtResult without rows decoded")
	}
	var c hrana.BatchCond
	if err := json.Unmarshal([]byte(`{"type":"not"}`), &c); err == nil {
		t.Error("a not condition without cond decoded")
	}
	var e hrana.Error
	if err := json.Unmarshal([]byte(`{"code":"X"}`), &e); err == nil {
		t.Error("an error without message decoded")
	}
	if err := json.Unmarshal([]byte(`{"message":"m","code":"X"}`), &e); err != nil || e.Code != "X" {
		t.Errorf("error: %+v %v", e, err)
	}
}

// TestFastPathTaken checks that real responses (the captured ones and
// sqld's, with its extra fields) take the fast path, and that it reads
// them as encoding/json does.
func TestFastPathTaken(t *testing.T) {
	v := loadVectors(t)
	bodies := [][]byte{
		[]byte(`{"baton":"PuoC","base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"v","decltype":null}],"rows":[[{"type":"blob","base64":"AAE"}],[{"type":"float","value":100000.0}]],"affected_row_count":3,"last_insert_rowid":"3","replication_index":"2","rows_read":1,"rows_written":3,"query_duration_ms":0.126}}},{"type":"ok","response":{"type":"describe","result":{"params":[{"name":null}],"cols":[{"name":"id","decltype":"INTEGER"}],"is_explain":false,"is_readonly":true}}},{"type":"error","error":{"message":"SQL string contains more than one statement","code":"SQL_MANY_STATEMENTS"}}]}`),
		rowsResponse(),
	}
	for _, c := range v.Cases {
		for _, r := range c.Requests {
			if r.Response.Status == 200 && len(r.Response.Body) > 0 {
				bodies = append(bodies, r.Response.Body)
			}
		}
	}
	for _, b := range bodies {
		accepted, err := hrana.FastDecodeAgrees(b)
		if err != nil {
			t.Error(err)
		}
		if !accepted {
			t.Errorf("the fast path refused %.200s", b)
		}
	}
}
