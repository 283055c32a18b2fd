package jsonx

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var parseCorpus = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-12.5e3`, `1E+2`, `0.000001`, `123456789012345678901234567890`,
	`""`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u2028 \ud83c\udf89"`, `"\ud800"`, `"\ud800\u0041"`, `"bad \xff utf8"`, `"ünï 🎉"`,
	`[]`, `[1,"2",[3],{"4":null}]`, `{}`, ` { "a" : 1 , "b" : [ true , false ] , "a" : 2 } `,
	`{"users":[{"email":"ada@example.com","name":"Ada"}]}`,
	// invalid
	``, ` `, `nul`, `tru`, `01`, `-`, `1.`, `.5`, `1e`, `+1`, `1e400`, `NaN`, `"abc`, `"\x"`, `"\u12"`, "\"a\tb\"",
	`[1,]`, `[1 2]`, `{"a"}`, `{"a":1,}`, `{a:1}`, `{"a":1}}`, `[`, `{`, `1 2`, `"\`, `[1]x`,
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, s := range parseCorpus {
		checkParse(t, []byte(s))
	}
}

func checkParse(t *testing.T, b []byte) {
	t.Helper()
	got, err := Parse(b)
	var want any
	werr := json.Unmarshal(b, &want)
	if (err == nil) != (werr == nil) {
		t.Fatalf("Parse(%q): error %v, encoding/json: %v", b, err, werr)
	}
	if err != nil {
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(b) {
			t.Fatalf("Parse(%q): %v, want a *SyntaxError with an offset in range", b, err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%q) = %#v, encoding/json gives %#v", b, got, want)
	}
}

func TestParseDepth(t *testing.T) {
	deep := strings.Repeat("[", 1001) + strings.Repeat("]", 1001)
	if _, err := Parse([]byte(deep)); err == nil {
		t.Error("1001 nested arrays: no error")
	}
	ok := strings.Repeat("[", 1000) + strings.Repeat("]", 1000)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("1000 nested arrays: %v", err)
	}
}

type point struct{ x, y int64 }

func (p point) AppendJSON(b []byte) []byte {
	b, _ = Append(b, map[string]any{"x": p.x, "y": p.y})
	return b
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	tm := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("", 3600))
	for _, v := range []any{
		nil, true, false, "x<y>&\"\n", 0, -1, int8(-8), int16(16), int32(-32), int64(math.MaxInt64), uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64),
		0.0, math.Copysign(0, -1), 1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, float32(0.1), float32(1e21), float32(1e-7),
		tm, time.Time{}, []string{"a", "b"}, []string(nil), []any{1, "2", nil, []any{}}, []any(nil),
		map[string]any{"b": 1, "a": []any{true}, "c": map[string]any{}}, map[string]string{"z": "1", "y": "2"}, map[string]any(nil),
	} {
		got, err := Append([]byte("prefix"), v)
		if err != nil {
			t.Fatalf("Append(%#v): %v", v, err)
		}
		want, _ := json.Marshal(v)
		if !strings.HasPrefix(string(got), "prefix") {
			t.Fatalf("Append(%#v) lost the prefix: %s", v, got)
		}
		var g, w any
		if err := json.Unmarshal(got[len("prefix"):], &g); err != nil {
			t.Fatalf("Append(%#v) = %s: not JSON: %v", v, got, err)
		}
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("Append(%#v) = %s, encoding/json writes %s", v, got[len("prefix"):], want)
		}
		if _, isStr := v.(string); !isStr && string(got[len("prefix"):]) != string(want) {
			t.Errorf("Append(%#v) = %s, want the same text as encoding/json: %s", v, got[len("prefix"):], want)
		}
	}
	if got, err := Append(nil, []any{point{1, 2}}); err != nil || string(got) != `[{"x":1,"y":2}]` {
		t.Errorf("Appender: %s, %v", got, err)
	}
}

func TestAppendRefuses(t *testing.T) {
	for _, v := range []any{math.NaN(), math.Inf(1), float32(math.Inf(-1)), struct{}{}, &struct{}{}, []int{1}, map[string]int{}, []byte("x"),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), map[string]any{"k": []any{struct{}{}}}} {
		got, err := Append([]byte("keep"), v)
		if err == nil {
			t.Errorf("Append(%#v) = %s, want an error", v, got)
		}
		if string(got) != "keep" {
			t.Errorf("Append(%#v) changed b on error: %s", v, got)
		}
	}
	deep := any(nil)
	for range 1002 {
		deep = []any{deep}
	}
	if _, err := Append(nil, deep); err == nil {
		t.Error("1002 nested arrays: no error")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range parseCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParse(t, b)
		if v, err := Parse(b); err == nil {
			out, err := Append(nil, v)
			if err != nil {
				t.Fatalf("Append(Parse(%q)): %v", b, err)
			}
			back, err := Parse(out)
			if err != nil || !reflect.DeepEqual(back, v) {
				t.Fatalf("round trip of %q: %s, %v", b, out, err)
			}
		}
	})
}

func TestSortStrings(t *testing.T) {
	for n := range 40 {
		s := make([]string, n)
		for i := range s {
			s[i] = string(rune('a' + (i*7919)%26))
		}
		want := append([]string(nil), s...)
		slices.Sort(want)
		sortStrings(s)
		if !slices.Equal(s, want) {
			t.Fatalf("sortStrings of %d: %q, want %q", n, s, want)
		}
	}
}
