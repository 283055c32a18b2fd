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
