package planetscale

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

// ParamError reports an argument that cannot be written into the SQL, or a
// mismatch between the placeholders and the arguments.
type ParamError struct {
	Index int // the argument's position (0-based), -1 for a count mismatch
	Msg   string
}

func (e *ParamError) Error() string {
	if e.Index < 0 {
		return "planetscale: " + e.Msg
	}
	return "planetscale: argument " + strconv.Itoa(e.Index) + ": " + e.Msg
}

// AppendLiteral appends v as a MySQL literal: nil as NULL, int64/int32/int
// as decimal, float64 as its shortest text (finite only), bool as TRUE or
// FALSE, string as AppendQuoted writes it (valid UTF-8), []byte as
// X'hex', time.Time as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC. Every literal
// reads the same with and without NO_BACKSLASH_ESCAPES in sql_mode.
func AppendLiteral(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "NULL"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return b, errors.New("MySQL has no NaN or infinity")
		}
		s := strconv.AppendFloat(nil, x, 'g', -1, 64)
		b = append(b, s...)
		// An exponent makes it a DOUBLE literal; without one MySQL reads
		// it as an exact DECIMAL, which it converts exactly.
		return b, nil
	case bool:
		if x {
			return append(b, "TRUE"...), nil
		}
		return append(b, "FALSE"...), nil
	case string:
		if !utf8.ValidString(x) {
			return b, errors.New("text is not valid UTF-8")
		}
		return AppendQuoted(b, x), nil
	case []byte:
		if x == nil {
			return append(b, "NULL"...), nil
		}
		b = append(b, "X'"...)
		b = hex.AppendEncode(b, x)
		return append(b, '\''), nil
	case time.Time:
		t := x.UTC()
		if t.Year() < 1 || t.Year() > 9999 {
			return b, errors.New("year " + strconv.Itoa(t.Year()) + " is outside MySQL's 1..9999")
		}
		b = append(b, '\'')
		b = t.AppendFormat(b, "2006-01-02 15:04:05.000000")
		return append(b, '\''), nil
	}
	return b, errors.New("unsupported type " + typeOf(v))
}

// AppendQuoted appends s as a MySQL string literal that reads the same
// whatever the server's sql_mode: '...' with quotes doubled when s holds no
// backslash, NUL or Ctrl-Z (characters NO_BACKSLASH_ESCAPES reads
// differently, or that a statement should not carry raw), else a hex
// literal with the utf8mb4 introducer (_utf8mb4 X'...'), which takes the
// collation of the column it meets as a quoted string does.
func AppendQuoted(b []byte, s string) []byte {
	if strings.ContainsAny(s, "\\\x00\x1a") {
		b = append(b, "_utf8mb4 X'"...)
		b = hex.AppendEncode(b, []byte(s))
		return append(b, '\'')
	}
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			b = append(b, '\'')
		}
		b = append(b, s[i])
	}
	return append(b, '\'')
}

func typeOf(v any) string {
	switch v.(type) {
	case uint, uint8, uint16, uint32, uint64:
		return "unsigned integer (convert it to int64)"
	case float32:
		return "float32 (convert it to float64)"
	}
	return fmt.Sprintf("%T", v)
}

// Interpolate replaces each ? placeholder of sql (outside strings, quoted
// identifiers and comments) with the literal of the matching argument. A
// different number of placeholders and arguments is a *ParamError, as is an
// argument AppendLiteral refuses. A statement with an executable comment
// (/*! ... */) and arguments is refused: MySQL reads its content as SQL,
// so a ? inside would be ambiguous.
func Interpolate(sql string, args []any) (string, error) {
	if len(args) == 0 {
		return sql, nil
	}
	b := make([]byte, 0, len(sql)+16*len(args))
	n := 0
	last := 0
	err := scan(sql, func(i int) error {
		if n >= len(args) {
			return &ParamError{Index: -1, Msg: "the statement has more ? placeholders than the " + strconv.Itoa(len(args)) + " arguments"}
		}
		b = append(b, sql[last:i]...)
		var err error
		if b, err = AppendLiteral(b, args[n]); err != nil {
			return &ParamError{Index: n, Msg: err.Error()}
		}
		n++
		last = i + 1
		return nil
	})
	if err != nil {
		return "", err
	}
	if n != len(args) {
		return "", &ParamError{Index: -1, Msg: strconv.Itoa(len(args)) + " arguments for " + strconv.Itoa(n) + " ? placeholders"}
	}
	return string(append(b, sql[last:]...)), nil
}

// scan calls f with the offset of every ? outside strings, quoted
// identifiers and comments.
func scan(sql string, f func(int) error) error {
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; c {
		case '?':
			if err := f(i); err != nil {
				return err
			}
		case '\'', '"', '`':
			j := i + 1
			for ; j < len(sql); j++ {
				if sql[j] == '\\' && c != '`' {
					j++
					continue
				}
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						j++
						continue
					}
					break
				}
			}
			if j >= len(sql) {
				return &ParamError{Index: -1, Msg: "unterminated quote " + string(c) + " in the statement"}
			}
			i = j
		case '#':
			i = skipLine(sql, i)
		case '-':
			if i+2 < len(sql) && sql[i+1] == '-' && (sql[i+2] == ' ' || sql[i+2] == '\t' || sql[i+2] == '\n' || sql[i+2] == '\r') {
				i = skipLine(sql, i)
			} else if i+2 == len(sql) && sql[i+1] == '-' {
				i = len(sql)
			}
		case '/':
			if i+1 < len(sql) && sql[i+1] == '*' {
				if i+2 < len(sql) && (sql[i+2] == '!' || sql[i+2] == 'M' && i+3 < len(sql) && sql[i+3] == '!') {
					return &ParamError{Index: -1, Msg: "an executable comment (/*! */) in a statement with arguments"}
				}
				j := indexFrom(sql, i+2, "*/")
				if j < 0 {
					return &ParamError{Index: -1, Msg: "unterminated comment in the statement"}
				}
				i = j + 1
			}
		}
	}
	return nil
}

func skipLine(s string, i int) int {
	for ; i < len(s); i++ {
		if s[i] == '\n' {
			return i
		}
	}
	return i
}

func indexFrom(s string, from int, sub string) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
