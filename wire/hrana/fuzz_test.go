package hrana_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/forge-orm/forge/wire/hrana"
)

// FuzzDecodePipelineResponse feeds arbitrary bytes to the response
// decoder. It must never panic; it either returns a *DecodeError or a
// response that encodes and decodes back to itself.
func FuzzDecodePipelineResponse(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Cases {
		for _, r := range c.Requests {
			if len(r.Response.Body) > 0 {
				f.Add([]byte(r.Response.Body))
			}
		}
	}
	f.Add([]byte(`{"baton":"b","base_url":"http://x/","results":[{"type":"ok","response":{"type":"describe","result":{"params":[{"name":null}],"cols":[{"name":"a","decltype":null}],"is_explain":false,"is_readonly":true}}},{"type":"ok","response":{"type":"get_autocommit","is_autocommit":true}}]}`))
	f.Add([]byte(`{"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"a"}],"rows":[[{"type":"integer","value":"-9223372036854775808"}]],"affected_row_count":0}}}]}`))
	f.Add([]byte(`{"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"a"}],"rows":[[{"type":"float","value":null}]],"affected_row_count":0}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := hrana.DecodePipelineResponse(data)
		if err != nil {
			var de *hrana.DecodeError
			if !errors.As(err, &de) || r != nil {
				t.Fatalf("error %v (%T) with result %v", err, err, r)
			}
			return
		}
		enc, err := r.AppendJSON(nil)
		if err != nil {
			t.Fatalf("a decoded response does not encode: %v", err)
		}
		again, err := hrana.DecodePipelineResponse(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip changed the response:\n%s\n%s", data, enc)
		}
	})
}

// FuzzDecodePipelineRequest does the same for requests (what the gateway
// will read).
func FuzzDecodePipelineRequest(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Cases {
		for _, r := range c.Requests {
			if len(r.Body) > 0 && string(r.Body) != "null" {
				f.Add([]byte(r.Body))
			}
		}
	}
	f.Add([]byte(`{"requests":[{"type":"batch","batch":{"steps":[{"condition":{"type":"and","conds":[{"type":"is_autocommit"},{"type":"or","conds":[{"type":"error","step":1}]}]},"stmt":{"sql_id":1,"named_args":[{"name":"a","value":{"type":"blob","base64":"AA"}}]}}]}},{"type":"get_autocommit"},{"type":"close_sql","sql_id":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := hrana.DecodePipelineRequest(data)
		if err != nil {
			var de *hrana.DecodeError
			if !errors.As(err, &de) || r != nil {
				t.Fatalf("error %v (%T) with result %v", err, err, r)
			}
			return
		}
		enc, err := r.AppendJSON(nil)
		if err != nil {
			t.Fatalf("a decoded request does not encode: %v", err)
		}
		again, err := hrana.DecodePipelineRequest(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip changed the request:\n%s\n%s", data, enc)
		}
	})
}

// FuzzFastDecode checks the response decoder's fast path against
// encoding/json: whatever the fast path accepts, encoding/json must accept
// and read identically (the fast path leaves everything else to it).
func FuzzFastDecode(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Cases {
		for _, r := range c.Requests {
			if len(r.Response.Body) > 0 {
				f.Add([]byte(r.Response.Body))
			}
		}
	}
	f.Add([]byte(`{"baton":"b\u00e9","base_url":null,"results":[{"type":"ok","response":{"type":"describe","result":{"params":[{"name":null}],"cols":[{"name":"a","decltype":null}],"is_explain":false,"is_readonly":true}}},{"type":"ok","response":{"type":"get_autocommit","is_autocommit":true}},{"type":"error","error":{"message":"m","code":null,"x":[1,{"y":"\n"}]}}]}`))
	f.Add([]byte(`{"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"a"}],"rows":[[{"type":"float","value":-1.5e-3}],null,[]],"affected_row_count":0,"rows_read":1,"query_duration_ms":0.5,"replication_index":"3"}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := hrana.FastDecodeAgrees(data); err != nil {
			t.Fatalf("%s\n%v", data, err)
		}
	})
}

// FuzzValueFastPath checks Value's fast path against its general path.
func FuzzValueFastPath(f *testing.F) {
	for _, s := range []string{
		`{"type":"null"}`, `{"type":"integer","value":"-9223372036854775808"}`, `{"type":"integer","value":"9223372036854775808"}`,
		`{"type":"integer","value":"+1"}`, `{"type":"integer","value":"007"}`, `{"type":"float","value":-0.5e-3}`,
		`{"type":"float","value":1e400}`, `{"type":"text","value":"Zo\u00eb"}`, `{"type":"text","value":"plain"}`,
		`{"type":"blob","base64":"AAE"}`, `{"type":"blob","base64":"AA=="}`, `{"type":"blob","base64":"A"}`,
		`{"value":"1","type":"integer"}`, `{"type":"integer","value":"1","type":"text"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := hrana.ValueFastAgrees(data); err != nil {
			t.Fatal(err)
		}
	})
}
