package driver_test

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/forge-orm/forge/driver"
)

func TestAssign(t *testing.T) {
	var (
		i64  int64
		i32  int32
		f    float64
		b    bool
		s    string
		bs   []byte
		tm   time.Time
		pi64 *int64
		ps   *string
		a    any
	)
	ok := []struct {
		dest, src any
		check     func() bool
	}{
		{&i64, int64(math.MaxInt64), func() bool { return i64 == math.MaxInt64 }},
		{&i64, "-9223372036854775808", func() bool { return i64 == math.MinInt64 }},
		{&i64, float64(1<<53 - 1), func() bool { return i64 == 1<<53-1 }},
		{&i32, int64(math.MinInt32), func() bool { return i32 == math.MinInt32 }},
		{&f, int64(3), func() bool { return f == 3 }},
		{&f, "0.1", func() bool { return f == 0.1 }},
		{&b, int64(1), func() bool { return b }},
		{&b, "false", func() bool { return !b }},
		{&s, []byte("x"), func() bool { return s == "x" }},
		{&bs, "ab", func() bool { return string(bs) == "ab" }},
		{&bs, []byte{}, func() bool { return bs != nil && len(bs) == 0 }},
		{&tm, "2024-01-02T03:04:05.000000006Z", func() bool { return tm.Nanosecond() == 6 && tm.Location() == time.UTC }},
		{&pi64, nil, func() bool { return pi64 == nil }},
		{&pi64, "5", func() bool { return pi64 != nil && *pi64 == 5 }},
		{&ps, "x", func() bool { return ps != nil && *ps == "x" }},
		{&a, int64(2), func() bool { return a == int64(2) }},
		{&a, []byte{}, func() bool { b, ok := a.([]byte); return ok && b != nil && len(b) == 0 }},
	}
	for i, tc := range ok {
		if err := driver.Assign(tc.dest, tc.src); err != nil || !tc.check() {
			t.Errorf("%d: Assign(%T, %#v): %v", i, tc.dest, tc.src, err)
		}
	}
	bad := []struct {
		dest, src any
		want      string
	}{
		{&i64, float64(1<<53 + 2), "precision"},
		{&i64, float64(1 << 53), "precision"},
		{&i64, 1.5, "not an integer"},
		{&i32, int64(math.MaxInt32 + 1), "int32"},
		{&i64, nil, "NULL"},
		{&s, nil, "NULL"},
		{&i64, "12x", "integer"},
		{&tm, "yesterday", "time"},
		{&b, []byte{1}, "bool"},
	}
	for i, tc := range bad {
		err := driver.Assign(tc.dest, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d: Assign(%T, %#v) = %v, want an error about %q", i, tc.dest, tc.src, err, tc.want)
		}
	}
}

func TestBufferedRows(t *testing.T) {
	r := &driver.BufferedRows{Cols: []string{"a", "b"}, Values: [][]any{{int64(1), "x"}, {int64(2), nil}}}
	var a int64
	var b *string
	n := 0
	for r.Next() {
		if err := r.Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 || a != 2 || b != nil {
		t.Errorf("n=%d a=%d b=%v", n, a, b)
	}
	if err := r.Scan(&a, &b); err == nil {
		t.Error("Scan after the end succeeded")
	}
}

func TestParseTimeFixed(t *testing.T) {
	for _, s := range []string{"2024-02-29T23:59:59.999999999Z", "0001-01-01T00:00:00.000000000Z", "1970-01-01T00:00:00.000000001Z"} {
		got, err := driver.ParseTime(s)
		want, werr := time.Parse("2006-01-02T15:04:05.000000000Z", s)
		if err != nil || werr != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"2023-02-29T00:00:00.000000000Z", "2024-13-01T00:00:00.000000000Z", "2024-01-01T00:00:00.00000000xZ"} {
		if _, err := driver.ParseTime(s); err == nil {
			t.Errorf("%s parsed", s)
		}
	}
}

func TestCheckValue(t *testing.T) {
	ok := []any{"", "plain", "ünï 🎉\t\u007f", "\U0010ffff", 0.0, -1.5e-300, math.MaxFloat64,
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 59, 0, 0, time.FixedZone("+1", 3600)), int64(math.MinInt64), []byte{0}, true, nil}
	for _, v := range ok {
		if r := driver.CheckValue(v); r != "" {
			t.Errorf("CheckValue(%#v) = %q, want it accepted", v, r)
		}
	}
	bad := map[any]string{
		"a\x00":        "NUL",
		"\x00":         "NUL",
		"é\x00":        "NUL",
		"\xff":         "UTF-8",
		"ok \xc3":      "UTF-8",
		"\xed\xa0\x80": "UTF-8", // a surrogate half
		math.NaN():     "finite",
		math.Inf(-1):   "finite",
		time.Date(0, 12, 31, 23, 59, 59, 999999999, time.UTC):             "years",
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC):                      "years",
		time.Date(1, 1, 1, 0, 30, 0, 0, time.FixedZone("+1", 3600)):       "years",
		time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC):                    "years",
		time.Date(294276, 1, 1, 0, 0, 0, 0, time.UTC):                     "years",
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("-2", -7200)): "years",
	}
	for v, want := range bad {
		if r := driver.CheckValue(v); !strings.Contains(r, want) {
			t.Errorf("CheckValue(%#v) = %q, want a reason about %q", v, r, want)
		}
	}
	// Every byte string: refused exactly when it is not UTF-8 or has a NUL.
	for i := 0; i < 1<<16; i++ {
		s := string([]byte{byte(i), byte(i >> 8)})
		want := !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0
		if got := driver.CheckValue(s) != ""; got != want {
			t.Errorf("CheckValue(%q) refused=%v, want %v", s, got, want)
		}
	}
}

func TestNormalizeTime(t *testing.T) {
	for _, tc := range []struct{ in, want time.Time }{
		{time.Date(2024, 1, 1, 0, 0, 0, 1999, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 1000, time.UTC)},
		{time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{time.Date(2024, 1, 1, 5, 30, 0, 999, time.FixedZone("+5:30", 19800)), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got := driver.NormalizeTime(tc.in)
		if !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("NormalizeTime(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
