package neon

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestEncodeParam(t *testing.T) {
	loc := time.FixedZone("+05:30", 5*3600+1800)
	cases := []struct {
		in   any
		want Param
	}{
		{nil, Param{}},
		{"it's \"x\" \\ ünï", TextParam("it's \"x\" \\ ünï")},
		{"", TextParam("")},
		{int64(math.MinInt64), TextParam("-9223372036854775808")},
		{int64(1<<53 + 1), TextParam("9007199254740993")},
		{int32(math.MaxInt32), TextParam("2147483647")},
		{42, TextParam("42")},
		{0.1, TextParam("0.1")},
		{-1.5e-300, TextParam("-1.5e-300")},
		{math.MaxFloat64, TextParam("1.7976931348623157e+308")},
		{math.SmallestNonzeroFloat64, TextParam("5e-324")},
		{1e21, TextParam("1e+21")},
		{math.NaN(), TextParam("NaN")},
		{math.Inf(1), TextParam("Infinity")},
		{math.Inf(-1), TextParam("-Infinity")},
		{true, TextParam("true")},
		{false, TextParam("false")},
		{[]byte{0, 1, 0xff}, TextParam(`\x0001ff`)},
		{[]byte{}, TextParam(`\x`)},
		{[]byte(nil), Param{}},
		{time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC), TextParam("2024-01-02T03:04:05.123456789Z")},
		{time.Date(2024, 1, 2, 8, 34, 5, 0, loc), TextParam("2024-01-02T03:04:05Z")},
		{time.Date(2024, 1, 2, 3, 4, 5, 500000000, time.UTC), TextParam("2024-01-02T03:04:05.5Z")},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), TextParam("10000-01-01T00:00:00Z")},
		{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), TextParam("0001-12-31T00:00:00Z BC")},
		{time.Date(-43, 3, 15, 0, 0, 0, 0, time.UTC), TextParam("0044-03-15T00:00:00Z BC")},
		{time.Date(7, 1, 1, 0, 0, 0, 0, time.UTC), TextParam("0007-01-01T00:00:00Z")},
	}
	for _, c := range cases {
		got, err := EncodeParam(c.in)
		if err != nil || got != c.want {
			t.Errorf("EncodeParam(%#v) = %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []any{uint64(1), float32(1), struct{}{}, &[]int{}, "\xff\xfe", map[string]any{}} {
		if _, err := EncodeParam(bad); err == nil {
			t.Errorf("EncodeParam(%#v) succeeded", bad)
		}
	}
	_, err := EncodeParams([]any{int64(1), uint8(2)})
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Index != 1 || !strings.Contains(err.Error(), "$2") {
		t.Errorf("EncodeParams error: %v", err)
	}
}

func str(s string) *string { return &s }

func TestDecodeCell(t *testing.T) {
	utc := func(y int, m time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, m, d, h, mi, s, ns, time.UTC)
	}
	cases := []struct {
		oid  uint32
		in   string
		want any
	}{
		{OIDInt2, "-32768", int64(-32768)},
		{OIDInt4, "42", int64(42)},
		{OIDInt8, "9007199254740993", int64(9007199254740993)},
		{OIDInt8, "-9223372036854775808", int64(math.MinInt64)},
		{OIDFloat8, "3.5", 3.5},
		{OIDFloat8, "0.1", 0.1},
		{OIDFloat8, "5e-324", math.SmallestNonzeroFloat64},
		{OIDFloat8, "1.7976931348623157e+308", math.MaxFloat64},
		{OIDFloat8, "-0", math.Copysign(0, -1)},
		{OIDFloat8, "Infinity", math.Inf(1)},
		{OIDFloat8, "-Infinity", math.Inf(-1)},
		{OIDFloat4, "0.1", float64(float32(0.1))},
		{OIDFloat4, "3.4028235e+38", float64(float32(math.MaxFloat32))},
		{OIDNumeric, "12.50", "12.50"},
		{OIDNumeric, "123456789012345678901234567890.000000000001", "123456789012345678901234567890.000000000001"},
		{OIDNumeric, "NaN", "NaN"},
		{OIDBool, "t", true},
		{OIDBool, "f", false},
		{OIDBytea, `\x0102ff`, []byte{1, 2, 0xff}},
		{OIDBytea, `\x`, []byte{}},
		{OIDBytea, `\xABcd`, []byte{0xab, 0xcd}},
		{OIDBytea, `a\\b\000\377`, []byte{'a', '\\', 'b', 0, 0xff}},
		{OIDTimestamptz, "2024-01-02 03:04:05.678+00", utc(2024, 1, 2, 3, 4, 5, 678000000)},
		{OIDTimestamptz, "2024-01-02 03:04:05.123456+00", utc(2024, 1, 2, 3, 4, 5, 123456000)},
		{OIDTimestamptz, "2024-01-01 05:30:00.5+05:30", utc(2024, 1, 1, 0, 0, 0, 500000000)},
		{OIDTimestamptz, "1900-01-01 00:19:32+00:19:32", utc(1900, 1, 1, 0, 0, 0, 0)},
		{OIDTimestamptz, "1999-12-31 18:00:00-06", utc(2000, 1, 1, 0, 0, 0, 0)},
		{OIDTimestamptz, "0001-01-01 00:00:00+00 BC", utc(0, 1, 1, 0, 0, 0, 0)},
		{OIDTimestamptz, "4714-11-24 00:19:32+00:19:32 BC", utc(-4713, 11, 24, 0, 0, 0, 0)},
		{OIDTimestamptz, "294276-12-31 23:59:59.999999+00", utc(294276, 12, 31, 23, 59, 59, 999999000)},
		{OIDTimestamptz, "2024-02-29T12:30:45.999999999Z", utc(2024, 2, 29, 12, 30, 45, 999999999)},
		{OIDTimestamp, "2024-01-01 01:02:03", utc(2024, 1, 1, 1, 2, 3, 0)},
		{OIDTimestamp, "2024-01-01 01:02:03.000001", utc(2024, 1, 1, 1, 2, 3, 1000)},
		{OIDDate, "2024-01-01", utc(2024, 1, 1, 0, 0, 0, 0)},
		{OIDDate, "0044-03-15 BC", utc(-43, 3, 15, 0, 0, 0, 0)},
		{OIDJSON, `{"a": 1}`, `{"a": 1}`},
		{OIDJSONB, `[1, "x"]`, `[1, "x"]`},
		{OIDText, "Zoë", "Zoë"},
		{OIDVarchar, "", ""},
		{OIDUUID, "0190a4b4-8d6a-7c3e-9d55-2a1c7d6f3e21", "0190a4b4-8d6a-7c3e-9d55-2a1c7d6f3e21"},
		{1009, `{x,"y z"}`, `{x,"y z"}`},
		{1083, "19:50:25.312481", "19:50:25.312481"},
	}
	for _, c := range cases {
		got, err := DecodeCell(c.oid, str(c.in))
		if err != nil {
			t.Errorf("DecodeCell(%d, %q): %v", c.oid, c.in, err)
			continue
		}
		if !equal(got, c.want) {
			t.Errorf("DecodeCell(%d, %q) = %#v, want %#v", c.oid, c.in, got, c.want)
		}
		if tm, ok := got.(time.Time); ok && tm.Location() != time.UTC {
			t.Errorf("DecodeCell(%d, %q) is not in UTC", c.oid, c.in)
		}
	}
	if v, err := DecodeCell(OIDFloat8, str("NaN")); err != nil || !math.IsNaN(v.(float64)) {
		t.Errorf("NaN: %v %v", v, err)
	}
	if v, err := DecodeCell(OIDInt4, nil); v != nil || err != nil {
		t.Errorf("NULL: %v %v", v, err)
	}
}

func equal(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y) && x != nil
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case float64:
		y, ok := b.(float64)
		return ok && x == y && math.Signbit(x) == math.Signbit(y)
	}
	return a == b
}

func TestDecodeCellErrors(t *testing.T) {
	cases := []struct {
		oid uint32
		in  string
	}{
		{OIDInt8, "9223372036854775808"},
		{OIDInt4, "1.5"},
		{OIDInt4, ""},
		{OIDInt2, " 1"},
		{OIDFloat8, "abc"},
		{OIDFloat8, ""},
		{OIDFloat8, "0x1p-2"},
		{OIDFloat8, "inf"},
		{OIDFloat8, "1e400"},
		{OIDBool, "yes"},
		{OIDBool, ""},
		{OIDBytea, `\x0`},
		{OIDBytea, `\xzz`},
		{OIDBytea, `a\b`},
		{OIDBytea, `\400`},
		{OIDTimestamptz, "infinity"},
		{OIDTimestamptz, "-infinity"},
		{OIDTimestamp, "infinity"},
		{OIDDate, "-infinity"},
		{OIDTimestamptz, "2024-01-02 03:04:05"},
		{OIDTimestamptz, "2024-13-02 03:04:05+00"},
		{OIDTimestamptz, "2023-02-29 03:04:05+00"},
		{OIDTimestamptz, "2024-01-02 24:04:05+00"},
		{OIDTimestamptz, "2024-01-02 03:60:05+00"},
		{OIDTimestamptz, "2024-01-02 03:04:05.+00"},
		{OIDTimestamptz, "2024-01-02 03:04:05.1234567890+00"},
		{OIDTimestamptz, "2024-01-02 03:04:05+0"},
		{OIDTimestamptz, "2024-01-02 03:04:05+00:6"},
		{OIDTimestamptz, "2024-01-02 03:04:05+00:00:00:00"},
		{OIDTimestamptz, "2024-01-02 03:04:05 PST"},
		{OIDTimestamptz, "0000-01-01 00:00:00+00 BC"},
		{OIDTimestamptz, "01/02/2024 03:04:05 PST"},
		{OIDTimestamptz, "Tue Jan 02 03:04:05 2024 UTC"},
		{OIDTimestamp, "2024-01-02 03:04:05+00"},
		{OIDDate, "2024-01-02 03:04:05"},
		{OIDDate, "2024-1-2"},
		{OIDDate, "12345678-01-01"},
		{OIDDate, ""},
	}
	for _, c := range cases {
		v, err := DecodeCell(c.oid, str(c.in))
		var ce *CellError
		if !errors.As(err, &ce) || ce.OID != c.oid {
			t.Errorf("DecodeCell(%d, %q) = %#v, %v; want a *CellError", c.oid, c.in, v, err)
		}
	}
	if _, err := ParseTime("2024-01-01", TimeForm(9)); err == nil {
		t.Error("an unknown TimeForm was accepted")
	}
}

// TestTimeRoundTrip checks that what FormatTime writes, ParseTime reads
// back as the same instant, across eras.
func TestTimeRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2024, 2, 29, 12, 30, 45, 999999000, time.FixedZone("x", 19800)),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC),
		time.Date(294276, 12, 31, 23, 59, 59, 999999000, time.UTC),
	} {
		s := FormatTime(tm)
		got, err := ParseTime(s, Timestamptz)
		if err != nil || !got.Equal(tm) {
			t.Errorf("%v: FormatTime %q read back as %v, %v", tm, s, got, err)
		}
	}
}

func FuzzDecodeCell(f *testing.F) {
	for _, s := range []string{"2024-01-02 03:04:05.678+00", "0001-01-01 00:00:00+00 BC", `\x0102`, `a\\b\000`, "t", "NaN", "-1", "1e5", "infinity"} {
		for _, oid := range []uint32{OIDInt8, OIDFloat4, OIDFloat8, OIDBool, OIDBytea, OIDTimestamptz, OIDTimestamp, OIDDate, OIDText} {
			f.Add(oid, s)
		}
	}
	f.Fuzz(func(t *testing.T, oid uint32, s string) {
		v, err := DecodeCell(oid, &s)
		if err != nil {
			var ce *CellError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *CellError", err)
			}
			return
		}
		if tm, ok := v.(time.Time); ok {
			// A time read back from its own text is the same instant.
			back, err := ParseTime(FormatTime(tm), Timestamptz)
			if err != nil || !back.Equal(tm) {
				t.Fatalf("%q: %v formats as %q, reads back as %v, %v", s, tm, FormatTime(tm), back, err)
			}
		}
	})
}
