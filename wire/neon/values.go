package neon

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Type OIDs of the PostgreSQL types the codecs treat specially.
const (
	OIDBool        uint32 = 16
	OIDBytea       uint32 = 17
	OIDInt8        uint32 = 20
	OIDInt2        uint32 = 21
	OIDInt4        uint32 = 23
	OIDText        uint32 = 25
	OIDJSON        uint32 = 114
	OIDFloat4      uint32 = 700
	OIDFloat8      uint32 = 701
	OIDVarchar     uint32 = 1043
	OIDDate        uint32 = 1082
	OIDTimestamp   uint32 = 1114
	OIDTimestamptz uint32 = 1184
	OIDNumeric     uint32 = 1700
	OIDUUID        uint32 = 2950
	OIDJSONB       uint32 = 3802
)

// ParamError reports an argument that cannot be sent as a parameter.
type ParamError struct {
	Index int // position of the argument (0-based)
	Msg   string
}

func (e *ParamError) Error() string {
	return "neon: parameter $" + strconv.Itoa(e.Index+1) + ": " + e.Msg
}

// EncodeParams encodes driver arguments with EncodeParam; a failure is a
// *ParamError naming the argument.
func EncodeParams(args []any) ([]Param, error) {
	out := make([]Param, len(args))
	for i, a := range args {
		p, err := EncodeParam(a)
		if err != nil {
			return nil, &ParamError{Index: i, Msg: err.Error()}
		}
		out[i] = p
	}
	return out, nil
}

// EncodeParam writes a Go value as PostgreSQL text: nil (and a nil []byte)
// is NULL; int64, int32 and int are decimal; float64 is strconv's shortest
// 'g' form, with NaN, Infinity and -Infinity; bool is true or false;
// []byte is bytea's hex form \x...; time.Time is RFC 3339 in UTC with
// nanoseconds (FormatTime); a string is sent as is and must be valid
// UTF-8. Any other type is an error.
func EncodeParam(v any) (Param, error) {
	switch x := v.(type) {
	case nil:
		return Param{}, nil
	case string:
		if !utf8.ValidString(x) {
			return Param{}, errors.New("the string is not valid UTF-8 (send bytes as []byte)")
		}
		return TextParam(x), nil
	case int64:
		return TextParam(strconv.FormatInt(x, 10)), nil
	case int32:
		return TextParam(strconv.FormatInt(int64(x), 10)), nil
	case int:
		return TextParam(strconv.Itoa(x)), nil
	case float64:
		return TextParam(FormatFloat(x)), nil
	case bool:
		return TextParam(strconv.FormatBool(x)), nil
	case []byte:
		if x == nil {
			return Param{}, nil
		}
		b := make([]byte, 2, 2+2*len(x))
		b[0], b[1] = '\\', 'x'
		return TextParam(string(hex.AppendEncode(b, x))), nil
	case time.Time:
		return TextParam(FormatTime(x)), nil
	}
	return Param{}, fmt.Errorf("a %T cannot be sent (use nil, int64, int32, float64, bool, string, []byte or time.Time)", v)
}

// FormatFloat writes f as PostgreSQL reads a double precision: the
// shortest text that reads back exactly, or NaN, Infinity, -Infinity.
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// FormatTime writes t in UTC as RFC 3339 with up to nine fractional digits
// ("2024-01-02T03:04:05.123456789Z"). Years before 1 are written as
// PostgreSQL reads them, with a year of era and " BC" (year 0 is 1 BC).
// PostgreSQL keeps microseconds and rounds the rest.
func FormatTime(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	bc := year <= 0
	if bc {
		year = 1 - year
	}
	b := make([]byte, 0, 40)
	if year < 1000 {
		b = append(b, "000"[:4-digits(year)]...)
	}
	b = strconv.AppendInt(b, int64(year), 10)
	b = append(b, '-')
	b = append2(b, int(month))
	b = append(b, '-')
	b = append2(b, day)
	b = append(b, 'T')
	b = append2(b, hour)
	b = append(b, ':')
	b = append2(b, min)
	b = append(b, ':')
	b = append2(b, sec)
	if ns := t.Nanosecond(); ns != 0 {
		frac := strconv.AppendInt(nil, int64(ns)+1e9, 10)[1:] // nine digits
		b = append(b, '.')
		b = append(b, strings.TrimRight(string(frac), "0")...)
	}
	b = append(b, 'Z')
	if bc {
		b = append(b, " BC"...)
	}
	return string(b)
}

func digits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// CellError reports a cell that cannot be read as its type.
type CellError struct {
	OID  uint32 // the column's type
	Text string // the cell (clipped)
	Err  error  // why
}

func (e *CellError) Error() string {
	return fmt.Sprintf("neon: cannot read %q as %s: %v", e.Text, typeName(e.OID), e.Err)
}

func (e *CellError) Unwrap() error { return e.Err }

func typeName(oid uint32) string {
	switch oid {
	case OIDBool:
		return "bool"
	case OIDBytea:
		return "bytea"
	case OIDInt2:
		return "int2"
	case OIDInt4:
		return "int4"
	case OIDInt8:
		return "int8"
	case OIDFloat4:
		return "float4"
	case OIDFloat8:
		return "float8"
	case OIDDate:
		return "date"
	case OIDTimestamp:
		return "timestamp"
	case OIDTimestamptz:
		return "timestamptz"
	}
	return "type " + strconv.FormatUint(uint64(oid), 10)
}

// Decoder returns the function that reads cells of a column of type oid
// (see the package doc). The function returns a *CellError for text its
// type cannot hold.
func Decoder(oid uint32) func(string) (any, error) {
	var f func(string) (any, error)
	switch oid {
	case OIDInt2, OIDInt4, OIDInt8:
		f = decodeInt
	case OIDFloat4:
		f = decodeFloat4
	case OIDFloat8:
		f = decodeFloat8
	case OIDBool:
		f = decodeBool
	case OIDBytea:
		f = decodeBytea
	case OIDTimestamptz:
		f = func(s string) (any, error) { return ParseTime(s, Timestamptz) }
	case OIDTimestamp:
		f = func(s string) (any, error) { return ParseTime(s, Timestamp) }
	case OIDDate:
		f = func(s string) (any, error) { return ParseTime(s, Date) }
	default: // numeric, json, jsonb, text, varchar, uuid, arrays, ...
		return func(s string) (any, error) { return s, nil }
	}
	return func(s string) (any, error) {
		v, err := f(s)
		if err != nil {
			return nil, &CellError{OID: oid, Text: clip(s), Err: err}
		}
		return v, nil
	}
}

// DecodeCell reads one cell of a column of type oid; nil is NULL.
func DecodeCell(oid uint32, text *string) (any, error) {
	if text == nil {
		return nil, nil
	}
	return Decoder(oid)(*text)
}

// DecodeRows reads every cell of a result into the values of the driver
// contract: nil, int64, float64, bool, string, []byte or time.Time.
func DecodeRows(fields []Field, rows [][]*string) ([][]any, error) {
	decs := make([]func(string) (any, error), len(fields))
	for i, f := range fields {
		decs[i] = Decoder(f.DataTypeID)
	}
	out := make([][]any, len(rows))
	for r, row := range rows {
		if len(row) != len(fields) {
			return nil, &ResponseError{Msg: "row " + strconv.Itoa(r) + " has " + strconv.Itoa(len(row)) + " cells for " + strconv.Itoa(len(fields)) + " fields"}
		}
		vals := make([]any, len(row))
		for c, cell := range row {
			if cell == nil {
				continue
			}
			v, err := decs[c](*cell)
			if err != nil {
				return nil, fmt.Errorf("row %d, column %d (%s): %w", r, c, fields[c].Name, err)
			}
			vals[c] = v
		}
		out[r] = vals
	}
	return out, nil
}

func decodeInt(s string) (any, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, errors.New("not a 64-bit integer")
	}
	return n, nil
}

func decodeFloat8(s string) (any, error) { return parseFloat(s, 64) }
func decodeFloat4(s string) (any, error) { return parseFloat(s, 32) }

// parseFloat reads PostgreSQL's float output. A float4 is read as the
// float32 it is (0.1 reads as float64(float32(0.1)), as pgx reads it).
func parseFloat(s string, bits int) (any, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	if s == "" || strings.ContainsAny(s, "_xXpPiInN") {
		return nil, errors.New("not a number")
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return nil, errors.New("not a number in range")
	}
	return f, nil
}

func decodeBool(s string) (any, error) {
	switch s {
	case "t", "true":
		return true, nil
	case "f", "false":
		return false, nil
	}
	return nil, errors.New("not t or f")
}

// decodeBytea reads bytea's hex output (\x0102ff) or, when a server has
// bytea_output = escape, its escape output (\\ and \ooo).
func decodeBytea(s string) (any, error) {
	if rest, ok := strings.CutPrefix(s, `\x`); ok {
		if len(rest)%2 != 0 {
			return nil, errors.New("odd number of hex digits")
		}
		b := make([]byte, len(rest)/2)
		if _, err := hex.Decode(b, []byte(rest)); err != nil {
			return nil, errors.New("not hex")
		}
		return b, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b = append(b, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1]) && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			b = append(b, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, errors.New("a backslash that is not an escape")
		}
	}
	return b, nil
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// TimeForm is a form of time ParseTime reads.
type TimeForm int

// The forms of time ParseTime reads.
const (
	Timestamptz TimeForm = iota // an offset is required
	Timestamp                   // no offset: the time is UTC
	Date                        // a date alone: midnight UTC
)

// ParseTime reads PostgreSQL's ISO text output of a timestamptz
// ("2024-01-02 03:04:05.123456+00", offsets such as +05:30 or +00:19:32,
// " BC" for years before 1, years past 9999), a timestamp (no offset, read
// as UTC) or a date ("2024-01-02"), as form says. The
// result is in UTC. 'T' is accepted for the space, "Z" for +00. infinity
// and -infinity have no time.Time and are an error, as is any malformed or
// out-of-range text.
func ParseTime(s string, form TimeForm) (time.Time, error) {
	if form < Timestamptz || form > Date {
		return time.Time{}, errors.New("neon: unknown time form " + strconv.Itoa(int(form)))
	}
	if s == "infinity" || s == "-infinity" {
		return time.Time{}, errors.New(s + " cannot be represented as a time.Time")
	}
	p := s
	bc := false
	if rest, ok := strings.CutSuffix(p, " BC"); ok {
		p, bc = rest, true
	}
	bad := func(why string) (time.Time, error) {
		return time.Time{}, errors.New("not a PostgreSQL " + [...]string{"timestamptz", "timestamp", "date"}[form] + ": " + why)
	}
	// The year: one or more digits, then '-'.
	i := 0
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	if i == 0 || i > 7 || i >= len(p) || p[i] != '-' {
		return bad("no year")
	}
	year, _ := strconv.Atoi(p[:i])
	p = p[i+1:]
	month, p, ok := twoDigits(p)
	if !ok || len(p) == 0 || p[0] != '-' {
		return bad("no month")
	}
	day, p, ok := twoDigits(p[1:])
	if !ok {
		return bad("no day")
	}
	if bc {
		if year == 0 {
			return bad("year 0 BC")
		}
		year = 1 - year
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) {
		return bad("the date is out of range")
	}
	var hour, min, sec, nsec, offset int
	if form == Date {
		if p != "" {
			return bad("text after the date")
		}
	} else {
		if len(p) == 0 || (p[0] != ' ' && p[0] != 'T') {
			return bad("no time")
		}
		if hour, p, ok = twoDigits(p[1:]); !ok || len(p) == 0 || p[0] != ':' {
			return bad("no hour")
		}
		if min, p, ok = twoDigits(p[1:]); !ok || len(p) == 0 || p[0] != ':' {
			return bad("no minute")
		}
		if sec, p, ok = twoDigits(p[1:]); !ok {
			return bad("no second")
		}
		if hour > 23 || min > 59 || sec > 59 {
			return bad("the time is out of range")
		}
		if len(p) > 0 && p[0] == '.' {
			j := 1
			for j < len(p) && isDigit(p[j]) {
				j++
			}
			if j == 1 || j > 10 {
				return bad("a malformed fraction of a second")
			}
			frac := p[1:j] + "000000000"[:10-j]
			nsec, _ = strconv.Atoi(frac)
			p = p[j:]
		}
		switch {
		case p == "" && form == Timestamp:
		case p == "":
			return bad("no time zone offset")
		case form == Timestamp:
			return bad("text after the time")
		case p == "Z":
		case p[0] == '+' || p[0] == '-':
			sign := 1
			if p[0] == '-' {
				sign = -1
			}
			oh, rest, ok := twoDigits(p[1:])
			if !ok {
				return bad("a malformed offset")
			}
			var om, os int
			if len(rest) > 0 {
				if rest[0] != ':' {
					return bad("a malformed offset")
				}
				if om, rest, ok = twoDigits(rest[1:]); !ok {
					return bad("a malformed offset")
				}
			}
			if len(rest) > 0 {
				if rest[0] != ':' {
					return bad("a malformed offset")
				}
				if os, rest, ok = twoDigits(rest[1:]); !ok || rest != "" {
					return bad("a malformed offset")
				}
			}
			if om > 59 || os > 59 {
				return bad("the offset is out of range")
			}
			offset = sign * (oh*3600 + om*60 + os)
		default:
			return bad("text after the time")
		}
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func twoDigits(s string) (int, string, bool) {
	if len(s) < 2 || !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, s, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), s[2:], true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
