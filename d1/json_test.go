package d1

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/forge-orm/forge/wire/jsonx"
)

func TestAppendArgs(t *testing.T) {
	s := "it's \"q\" \\ \x00\x01\x1f\n\r\t ünï 🎉 \u2028 </script>"
	text, blobs := appendArgs(nil, []any{nil, float64(1<<53 - 1), -1.5, 1e300, 5e-324, float64(-(1<<53 - 1)), s, []byte{1}, "", []byte{}})
	var got []any
	if err := json.Unmarshal(text, &got); err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	want := []any{nil, float64(1<<53 - 1), -1.5, 1e300, 5e-324, float64(-(1<<53 - 1)), s, nil, "", nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("appendArgs = %s\nread back %#v", text, got)
	}
	if !reflect.DeepEqual(blobs, []int{7, 9}) {
		t.Errorf("blobs at %v", blobs)
	}
	if !strings.Contains(string(text), ",9007199254740991,") {
		t.Errorf("an integer is not written as one: %s", text)
	}
}

func TestParseRaw(t *testing.T) {
	r, err := parseRaw(`[["id","name","b","f","n","t"],[1,"a\"b\\c\u0000\ud83c\udf89 é",[0,1,255],1.5,null,true],[-9007199254740991,"",[],1e+300,null,false]]`)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Cols, []string{"id", "name", "b", "f", "n", "t"}) {
		t.Errorf("columns %v", r.Cols)
	}
	want := [][]any{
		{int64(1), "a\"b\\c\x00🎉 é", []byte{0, 1, 255}, 1.5, nil, true},
		{int64(-(1<<53 - 1)), "", []byte{}, 1e300, nil, false},
	}
	if !reflect.DeepEqual(r.Values, want) {
		t.Errorf("rows %#v", r.Values)
	}
	for _, s := range []string{`[]`, ` [ ] `} {
		r, err := parseRaw(s)
		if err != nil || len(r.Cols) != 0 || len(r.Values) != 0 {
			t.Errorf("parseRaw(%q) = %+v, %v", s, r, err)
		}
	}
	r, err = parseRaw(`[["a"]]`)
	if err != nil || len(r.Cols) != 1 || len(r.Values) != 0 {
		t.Errorf("no rows: %+v, %v", r, err)
	}
	// 2^53 arrives as a float, which Scan refuses into an integer.
	r, err = parseRaw(`[["a"],[9007199254740992]]`)
	if err != nil || r.Values[0][0] != float64(1<<53) {
		t.Errorf("2^53: %#v, %v", r, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{
		``, `[`, `[[]`, `[["a"],[1,2]]`, `[["a"],[1]]x`, `[["a"],[nul]]`, `[["a"],["x]]`, `[["a"],["\x"]]`,
		`[["a"],["\u12"]]`, `[["a"],[[256]]]`, `[["a"],[[1.5]]]`, `[["a"],[[-1]]]`, `[["a"],[1e]]`, `[1]`, `[["a"],[1,]]`, `[["a"] [1]]`,
	} {
		if _, err := parseRaw(s); err == nil || errors.Is(err, errSlowPath) {
			t.Errorf("parseRaw(%q): %v", s, err)
		}
	}
	if _, err := parseRaw(`[["a"],[{}]]`); !errors.Is(err, errSlowPath) {
		t.Errorf("an object cell: %v, want errSlowPath", err)
	}
}

func TestParseSurrogates(t *testing.T) {
	for in, want := range map[string]string{
		`"\ud83c\udf89"`:  "🎉",
		`"\ud83c"`:        "\uFFFD",
		`"\udf89x"`:       "\uFFFDx",
		`"\ud83c\u0041"`:  "\uFFFDA",
		`"\ud83c\ud83c"`:  "\uFFFD\uFFFD",
		`"\ud83c\uZZZZ"`:  "",
		`"a\u00e9\u4e2d"`: "aé中",
	} {
		p := &parser{s: in}
		got, err := p.str()
		if want == "" {
			if err == nil {
				t.Errorf("%s: %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseObjects(t *testing.T) {
	r, err := parseObjects(`[{"id":1,"v":"a","b":[1]},{"id":2,"v":null,"b":[]}]`)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Cols, []string{"id", "v", "b"}) || !reflect.DeepEqual(r.Values, [][]any{{int64(1), "a", []byte{1}}, {int64(2), nil, []byte{}}}) {
		t.Errorf("%+v", r)
	}
	for _, s := range []string{`[{"id":1},{"x":1}]`, `[{"id":1},{"id":1,"x":2}]`, `[{"id":1,"x":2},{"id":1}]`, `[{"7":1}]`, `[{"id" 1}]`} {
		if _, err := parseObjects(s); err == nil {
			t.Errorf("parseObjects(%q) succeeded", s)
		}
	}
	if r, err := parseObjects(`[]`); err != nil || len(r.Values) != 0 {
		t.Errorf("no rows: %+v %v", r, err)
	}
}

// FuzzJSONString checks that a string written by appendString reads back
// the same through parser.str and encoding/json, and that parser.str reads
// what encoding/json writes.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\/\b\f\n\r\t\x00\x1f\x7f", "ünï 🎉", "\u2028\u2029<>&", strings.Repeat("x", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		b := jsonx.AppendString(nil, s)
		p := &parser{s: string(b)}
		got, err := p.str()
		if err != nil || got != s || p.i != len(b) {
			t.Fatalf("jsonx.AppendString(%q) = %s read back as %q, %v", s, b, got, err)
		}
		var std string
		if err := json.Unmarshal(b, &std); err != nil || std != s {
			t.Fatalf("encoding/json reads %s as %q, %v", b, std, err)
		}
		m, _ := json.Marshal(s)
		p = &parser{s: string(m)}
		if got, err := p.str(); err != nil || got != s {
			t.Fatalf("parser.str(%s) = %q, %v", m, got, err)
		}
	})
}

func TestNumbersRoundTrip(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 1.0 / 3, math.MaxFloat64, math.SmallestNonzeroFloat64, -1.5e-300, 1 << 53, 1<<53 - 1, 1e15, 1e15 - 1, 123456789012345.6} {
		text, _ := appendArgs(nil, []any{f})
		p := &parser{s: string(text[1 : len(text)-1])}
		got, err := p.number()
		if err != nil || got != f {
			t.Errorf("%v written as %s read back as %v, %v", f, text, got, err)
		}
	}
}
