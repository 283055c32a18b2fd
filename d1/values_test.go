package d1

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/driver"
)

func TestBindValue(t *testing.T) {
	loc := time.FixedZone("x", 3600)
	for _, tc := range []struct {
		in   any
		want any
	}{
		{nil, nil},
		{int64(1<<53 - 1), float64(1<<53 - 1)},
		{int64(-(1<<53 - 1)), float64(-(1<<53 - 1))},
		{int32(math.MinInt32), float64(math.MinInt32)},
		{7, float64(7)},
		{math.MaxFloat64, math.MaxFloat64},
		{-0.5, -0.5},
		{true, float64(1)},
		{false, float64(0)},
		{"it's ünï 🎉", "it's ünï 🎉"},
		{[]byte{0, 1}, []byte{0, 1}},
		{[]byte(nil), []byte{}},
		{time.Date(2024, 1, 2, 3, 4, 5, 6, loc), "2024-01-02T02:04:05.000000006Z"},
	} {
		got, err := bindValue(0, tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("bindValue(%#v) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []any{int64(1 << 53), int64(-(1 << 53)), int64(math.MaxInt64), 1 << 60, math.NaN(), math.Inf(-1), "\xff", struct{}{}, uint64(1), float32(1)} {
		_, err := bindValue(2, in)
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Arg != 3 || !strings.Contains(err.Error(), "argument 3") {
			t.Errorf("bindValue(%#v): %v, want a *ValueError for argument 3", in, err)
		}
	}
}

func TestReadNumber(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want any
	}{
		{0, int64(0)},
		{math.Copysign(0, -1), math.Copysign(0, -1)},
		{42, int64(42)},
		{-(1<<53 - 1), int64(-(1<<53 - 1))},
		{1 << 53, float64(1 << 53)},
		{1.5, 1.5},
		{1e300, 1e300},
	} {
		if got := readNumber(tc.in); !reflect.DeepEqual(got, tc.want) || math.Signbit(toFloat(got)) != math.Signbit(tc.in) {
			t.Errorf("readNumber(%v) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// TestReadBack checks what numbers D1 returns become once scanned with
// driver.Assign: exact integers, or an error from 2^53 on (where 2^53+1
// arrives as 2^53).
func TestReadBack(t *testing.T) {
	r := &driver.BufferedRows{Cols: []string{"a", "b"}, Values: [][]any{
		{readNumber(1<<53 - 1), readNumber(1 << 53)},
		{readNumber(-(1<<53 - 1)), readNumber(-(1 << 53))},
	}}
	for r.Next() {
		var a, b int64
		if err := r.Scan(&a, &b); err == nil || !strings.Contains(err.Error(), "2^53") {
			t.Errorf("±2^53 into an int64: %v", err)
		}
		var bp *int64
		if err := r.Scan(&a, &bp); err == nil {
			t.Error("±2^53 into a *int64 succeeded")
		}
		var f float64
		if err := r.Scan(&a, &f); err != nil || math.Abs(float64(a)) != 1<<53-1 || math.Abs(f) != 1<<53 {
			t.Errorf("into a float64: %v %v %v", a, f, err)
		}
	}
}

func TestMapError(t *testing.T) {
	err := mapError("D1_ERROR: UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT")
	var ce *driver.ConstraintError
	var de *Error
	if !errors.As(err, &ce) || ce.Kind != driver.Unique || ce.Table != "users" || !reflect.DeepEqual(ce.Columns, []string{"email"}) {
		t.Errorf("unique: %#v", err)
	}
	if !errors.As(err, &de) || de.Code != "D1_ERROR" || !strings.HasPrefix(de.Message, "UNIQUE constraint failed") {
		t.Errorf("the cause: %#v", de)
	}
	for msg, want := range map[string]Error{
		"D1_ERROR: no such table: x: SQLITE_ERROR":           {Code: "D1_ERROR", Message: "no such table: x: SQLITE_ERROR"},
		"D1_TYPE_ERROR: Type 'bigint' not supported":         {Code: "D1_TYPE_ERROR", Message: "Type 'bigint' not supported"},
		"D1_EXEC_ERROR: Error in line 1: x":                  {Code: "D1_EXEC_ERROR", Message: "Error in line 1: x"},
		"Network connection lost.":                           {Message: "Network connection lost."},
		"d1_error: lower case is not a code":                 {Message: "d1_error: lower case is not a code"},
		"D1 ERROR: a space is not a code":                    {Message: "D1 ERROR: a space is not a code"},
		"D1_COLUMN_NOTFOUND: Column not found (x)":           {Code: "D1_COLUMN_NOTFOUND", Message: "Column not found (x)"},
		"D1_ERROR: FOREIGN KEY constraint failed: SQLITE_CO": {},
	} {
		err := mapError(msg)
		if want == (Error{}) {
			if !errors.As(err, &ce) || ce.Kind != driver.ForeignKey {
				t.Errorf("%q: %v", msg, err)
			}
			continue
		}
		if !errors.As(err, &de) || *de != want || errors.As(err, &ce) {
			t.Errorf("%q: %#v, want %#v", msg, err, want)
		}
	}
	if got := (&Error{Code: "D1_ERROR", Message: "m"}).Error(); got != "forge/d1: D1_ERROR: m" {
		t.Error(got)
	}
}

func TestHelpers(t *testing.T) {
	for sql, want := range map[string]bool{
		`INSERT INTO "t" VALUES (1)`:  true,
		"  insert into t values (1)":  true,
		"REPLACE INTO t VALUES (1)":   true,
		`UPDATE "t" SET "a" = 1`:      false,
		"DELETE FROM t":               false,
		"INS":                         false,
		`WITH x AS (SELECT 1) SELECT`: false,
	} {
		if hasLastInsertID(sql) != want {
			t.Errorf("hasLastInsertID(%q) != %v", sql, want)
		}
	}
	for k, want := range map[string]bool{"0": true, "7": true, "4294967294": true, "4294967295": false, "07": false, "": false, "x1": false, "-1": false, "1.5": false} {
		if isArrayIndex(k) != want {
			t.Errorf("isArrayIndex(%q) != %v", k, want)
		}
	}
	if Dialect.MaxParams() != 100 || Dialect.Name() != "sqlite" {
		t.Errorf("Dialect: %s, %d params", Dialect.Name(), Dialect.MaxParams())
	}
}
