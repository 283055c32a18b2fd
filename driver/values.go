package driver

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Assign stores src into dest. It is the conversion every driver that
// decodes values itself (the HTTP drivers, BufferedRows) shares, so that
// they all read values alike.
//
// src is a decoded database value: nil, int64, float64, bool, string,
// []byte or time.Time. dest is one of the scan destinations of the package
// doc. A conversion that could lose information is an error, never a
// silent change: a float64 into an int64 must be integral and within
// ±(2^53-1) (from 2^53 on, the float may already have lost digits), a value
// out of an int32's range is an error, and NULL into a non-pointer is an
// error.
func Assign(dest, src any) error {
	switch d := dest.(type) {
	case *any:
		if b, ok := src.([]byte); ok {
			src = append([]byte{}, b...) // a copy; empty stays non-nil (not NULL)
		}
		*d = src
		return nil
	case *int64:
		v, err := toInt64(src)
		if err != nil {
			return err
		}
		*d = v
		return nil
	case *int32:
		v, err := toInt64(src)
		if err != nil {
			return err
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return fmt.Errorf("forge: %d does not fit an int32", v)
		}
		*d = int32(v)
		return nil
	case *float64:
		switch x := src.(type) {
		case float64:
			*d = x
		case int64:
			*d = float64(x)
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return fmt.Errorf("forge: cannot read %q as a float: %w", x, err)
			}
			*d = f
		default:
			return typeError(src, "float64")
		}
		return nil
	case *bool:
		switch x := src.(type) {
		case bool:
			*d = x
		case int64:
			*d = x != 0
		case float64:
			*d = x != 0
		case string:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return fmt.Errorf("forge: cannot read %q as a bool", x)
			}
			*d = b
		default:
			return typeError(src, "bool")
		}
		return nil
	case *string:
		switch x := src.(type) {
		case string:
			*d = x
		case []byte:
			*d = string(x)
		case int64:
			*d = strconv.FormatInt(x, 10)
		case float64:
			*d = strconv.FormatFloat(x, 'g', -1, 64)
		case bool:
			*d = strconv.FormatBool(x)
		case time.Time:
			*d = x.UTC().Format(time.RFC3339Nano)
		default:
			return typeError(src, "string")
		}
		return nil
	case *[]byte:
		switch x := src.(type) {
		case nil:
			*d = nil
		case []byte:
			*d = append([]byte{}, x...)
		case string:
			*d = []byte(x)
		default:
			return typeError(src, "[]byte")
		}
		return nil
	case *time.Time:
		t, err := toTime(src)
		if err != nil {
			return err
		}
		*d = t
		return nil
	case **string:
		return assignPtr(d, src)
	case **int64:
		return assignPtr(d, src)
	case **int32:
		return assignPtr(d, src)
	case **float64:
		return assignPtr(d, src)
	case **bool:
		return assignPtr(d, src)
	case **time.Time:
		return assignPtr(d, src)
	case **[]byte:
		return assignPtr(d, src)
	}
	return fmt.Errorf("forge: unsupported scan destination %T", dest)
}

func assignPtr[T any](d **T, src any) error {
	if src == nil {
		*d = nil
		return nil
	}
	v := new(T)
	if err := Assign(v, src); err != nil {
		return err
	}
	*d = v
	return nil
}

// ErrNull is returned when NULL is read into a destination that cannot
// hold it.
var ErrNull = errors.New("forge: NULL read into a non-nullable destination")

func typeError(src any, want string) error {
	if src == nil {
		return ErrNull
	}
	return fmt.Errorf("forge: cannot read a %T as %s", src, want)
}

const maxExactFloat = 1 << 53

func toInt64(src any) (int64, error) {
	switch x := src.(type) {
	case int64:
		return x, nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, fmt.Errorf("forge: %v is not an integer", x)
		}
		if x >= maxExactFloat || x <= -maxExactFloat {
			return 0, fmt.Errorf("forge: %v is beyond ±(2^53-1) and may have lost precision in transit", x)
		}
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		v, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("forge: cannot read %q as an integer: %w", x, err)
		}
		return v, nil
	}
	return 0, typeError(src, "int64")
}

func toTime(src any) (time.Time, error) {
	switch x := src.(type) {
	case time.Time:
		return x.UTC(), nil
	case string:
		return ParseTime(x)
	case []byte:
		return ParseTime(string(x))
	case int64:
		return time.Unix(x, 0).UTC(), nil
	}
	return time.Time{}, typeError(src, "time.Time")
}

// BufferedRows is Rows over values held in memory, for drivers that receive
// a whole result at once. Values hold decoded values (see Assign).
type BufferedRows struct {
	Cols   []string
	Values [][]any
	i      int
}

// Columns implements Rows.
func (r *BufferedRows) Columns() []string { return r.Cols }

// Next implements Rows.
func (r *BufferedRows) Next() bool {
	if r.i >= len(r.Values) {
		r.i = len(r.Values) + 1
		return false
	}
	r.i++
	return true
}

// Scan implements Rows.
func (r *BufferedRows) Scan(dest ...any) error {
	if r.i == 0 || r.i > len(r.Values) {
		return errors.New("forge: Scan called without a row")
	}
	row := r.Values[r.i-1]
	if len(dest) != len(row) {
		return fmt.Errorf("forge: Scan of %d columns into %d destinations", len(row), len(dest))
	}
	for i, d := range dest {
		if err := Assign(d, row[i]); err != nil {
			name := ""
			if i < len(r.Cols) {
				name = r.Cols[i]
			}
			return fmt.Errorf("column %d (%s): %w", i, name, err)
		}
	}
	return nil
}

// Err implements Rows.
func (r *BufferedRows) Err() error { return nil }

// Close implements Rows.
func (r *BufferedRows) Close() error { r.i = len(r.Values) + 1; return nil }

// ValueError reports a value forge refuses to send because not every
// database would store it and give it back exactly (see CheckValue).
// Nothing is written when a value is refused: forge checks every value
// before it builds the statement.
type ValueError struct {
	Model  string // the model, "" for a raw SQL argument
	Field  string // the Go field, "" for a raw SQL argument
	Arg    int    // 1-based position of a raw SQL argument, 0 for a field
	Value  any
	Reason string
}

func (e *ValueError) Error() string {
	s := "forge: "
	switch {
	case e.Model != "" && e.Field != "":
		s += "model " + e.Model + ", field " + e.Field
	case e.Model != "":
		s += "model " + e.Model
	default:
		s += "argument " + strconv.Itoa(e.Arg)
	}
	return s + ": " + e.Reason
}

// MinYear and MaxYear bound the times forge stores (in UTC): SQLite's text
// layout has four digits for the year, and PostgreSQL's text input (the HTTP
// drivers send times as text) has no year 0.
const (
	MinYear = 1
	MaxYear = 9999
)

// CheckValue returns why v cannot be stored so that every database gives it
// back exactly, or "" when it can. It is the one rule per value class that
// forge applies to every argument on every driver:
//
//   - text (string) must be valid UTF-8 without NUL bytes: PostgreSQL refuses
//     both, and SQLite's text functions stop at a NUL;
//   - a float64 must be finite: PostgreSQL stores NaN and ±Inf, but SQLite
//     turns NaN into NULL and JSON-based protocols cannot carry them;
//   - a time.Time must fall within years MinYear..MaxYear in UTC.
//
// Integers, booleans and []byte are always storable (D1 further limits
// integers to ±(2^53-1): its driver refuses larger ones).
func CheckValue(v any) string {
	switch x := v.(type) {
	case string:
		return checkText(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprintf("the float %v is not a finite number; SQLite stores NaN as NULL and not every database stores ±Inf, so forge refuses them everywhere (use a nullable field for \"no value\")", x)
		}
	case time.Time:
		if y := x.UTC().Year(); y < MinYear || y > MaxYear {
			return fmt.Sprintf("the time %s is outside years %d to %d (UTC), the range every database stores exactly", x.UTC().Format(time.RFC3339Nano), MinYear, MaxYear)
		}
	}
	return ""
}

func checkText(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return fmt.Sprintf("the text has a NUL byte at offset %d; PostgreSQL cannot store it in text, so forge refuses it everywhere (use a bytes field for binary data)", i)
		}
		if c >= utf8.RuneSelf {
			if !utf8.ValidString(s[i:]) {
				return "the text is not valid UTF-8; PostgreSQL refuses it, so forge refuses it everywhere (use a bytes field for binary data)"
			}
			if strings.IndexByte(s[i:], 0) >= 0 {
				return fmt.Sprintf("the text has a NUL byte at offset %d; PostgreSQL cannot store it in text, so forge refuses it everywhere (use a bytes field for binary data)", i+strings.IndexByte(s[i:], 0))
			}
			return ""
		}
	}
	return ""
}

// NormalizeTime returns t as forge stores it: in UTC, truncated to whole
// microseconds (PostgreSQL's precision; forge truncates before sending so
// that every driver stores the same instant, and SQLite the same text).
func NormalizeTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
