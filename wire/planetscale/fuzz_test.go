package planetscale

import (
	"errors"
	"testing"
)

// FuzzDecodeResponse feeds arbitrary bytes to the response decoder and the
// row decoder. They must never panic; a failure is a *ResponseError or a
// *CellError.
func FuzzDecodeResponse(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Cases {
		for _, r := range c.Requests {
			f.Add([]byte(r.Response.Body))
		}
	}
	f.Add([]byte(`{"result":{"fields":[{"name":"a","type":"UINT64"},{"name":"b","type":"DATETIME"}],"rows":[{"lengths":["20","-1"],"values":"MTg0NDY3NDQwNzM3MDk1NTE2MTU="}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeResponse(data)
		if err != nil {
			var re *ResponseError
			if !errors.As(err, &re) || r != nil {
				t.Fatalf("error %v (%T) with response %v", err, err, r)
			}
			return
		}
		if r.Result == nil {
			return
		}
		if _, err := DecodeRows(r.Result); err != nil {
			var re *ResponseError
			var ce *CellError
			if !errors.As(err, &re) && !errors.As(err, &ce) {
				t.Fatalf("DecodeRows: %v (%T)", err, err)
			}
		}
	})
}

// FuzzInterpolate checks that every argument lands inside a literal: the
// interpolated statement has the same ? placeholders outside strings as the
// template minus the replaced ones, so no argument can add SQL.
func FuzzInterpolate(f *testing.F) {
	f.Add("SELECT ?, '?' -- ?\n", "it's", []byte{0, 1})
	f.Add("SELECT ? /* ? */ `?`", "\\'; DROP TABLE t; --", []byte("'"))
	f.Fuzz(func(t *testing.T, sql, s string, b []byte) {
		n := 0
		if scan(sql, func(int) error { n++; return nil }) != nil || n != 2 {
			return
		}
		out, err := Interpolate(sql, []any{s, b})
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T)", err, err)
			}
			return
		}
		m := 0
		if err := scan(out, func(int) error { m++; return nil }); err != nil || m != 0 {
			t.Fatalf("Interpolate(%q, %q, %q) = %q: %d placeholders left, %v", sql, s, b, out, m, err)
		}
	})
}
