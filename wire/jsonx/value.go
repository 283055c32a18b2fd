package jsonx

import (
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Appender is a value that writes itself as one JSON value.
type Appender interface {
	AppendJSON(b []byte) []byte
}

// Append appends v as JSON without reflection: nil, bool, string, the
// integer types, float32 and float64 (finite), time.Time (RFC 3339 with
// nanoseconds, as encoding/json writes it), []any, []string,
// map[string]any, map[string]string (keys sorted, as encoding/json does),
// an Appender, and any nesting of those. Any other type is an error naming
// it; b is then returned unchanged.
func Append(b []byte, v any) ([]byte, error) {
	if a, ok := v.(Appender); ok {
		// First, and outside appendValue's large switch, which a Worker
		// that only writes Appenders then never compiles.
		return a.AppendJSON(b), nil
	}
	out, err := appendValue(b, v, 0)
	if err != nil {
		return b, err
	}
	return out, nil
}

// maxDepth bounds nesting, for Append and Parse alike.
const maxDepth = 1000

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, errors.New("jsonx: nested deeper than 1000 levels")
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return AppendString(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case float64:
		return AppendFloat(b, x, 64)
	case float32:
		return AppendFloat(b, float64(x), 32)
	case time.Time:
		if y := x.Year(); y < 0 || y > 9999 {
			return b, errors.New("jsonx: time " + x.String() + " has a year outside [0,9999]")
		}
		b = append(b, '"')
		b = x.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"'), nil
	case Appender:
		return x.AppendJSON(b), nil
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, s)
		}
		return append(b, ']'), nil
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]string:
		if x == nil {
			return append(b, "null"...), nil
		}
		keys := sortedKeys(x)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k)
			b = append(b, ':')
			b = AppendString(b, x[k])
		}
		return append(b, '}'), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		keys := sortedKeys(x)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendValue(b, x[k], depth+1); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	return b, &UnsupportedTypeError{Value: v}
}

// UnsupportedTypeError reports a value Append cannot write.
type UnsupportedTypeError struct {
	Value any
}

func (e *UnsupportedTypeError) Error() string {
	return "jsonx: cannot write a value of type " + typeName(e.Value) + " without reflection: use map[string]any, []any, basic types, or implement AppendJSON"
}

// typeName names v's dynamic type for an error message, without fmt or
// reflect (which is why it is approximate: "a struct or other type").
func typeName(v any) string {
	switch v.(type) {
	case []byte:
		return "[]byte"
	case []int, []int64, []float64, []bool:
		return "a slice other than []any or []string"
	case map[string]int, map[string]int64, map[string]float64, map[string]bool:
		return "a map other than map[string]any or map[string]string"
	}
	return "a struct, pointer or other non-basic type"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

// sortStrings sorts s in place: a heapsort, which is all a JSON writer
// needs and, unlike slices.Sort, adds little code to a Worker.
func sortStrings(s []string) {
	down := func(i, n int) {
		for {
			c := 2*i + 1
			if c >= n {
				return
			}
			if c+1 < n && s[c] < s[c+1] {
				c++
			}
			if s[i] >= s[c] {
				return
			}
			s[i], s[c] = s[c], s[i]
			i = c
		}
	}
	for i := len(s)/2 - 1; i >= 0; i-- {
		down(i, len(s))
	}
	for n := len(s) - 1; n > 0; n-- {
		s[0], s[n] = s[n], s[0]
		down(0, n)
	}
}

// AppendFloat appends f as encoding/json writes a float of the given bit
// size: the shortest decimal that reads back as f, in exponent form below
// 1e-6 and from 1e21. NaN and the infinities, which JSON cannot hold, are
// an error.
func AppendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, errors.New("jsonx: " + strconv.FormatFloat(f, 'g', -1, bits) + " is not a JSON number")
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b, nil
}

// SyntaxError is a JSON document Parse refused, with the byte offset where
// it went wrong.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Parse decodes one JSON document (RFC 8259) without reflection, into the
// values encoding/json gives an `any`: nil, bool, float64, string, []any
// and map[string]any (a repeated key keeps its last value). As
// encoding/json does, invalid UTF-8 and lone surrogates in strings become
// U+FFFD. Anything but whitespace after the value is an error, and so is
// nesting deeper than 1000 levels.
func Parse(s []byte) (any, error) {
	p := &valueParser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.fail("data after the value")
	}
	return v, nil
}

type valueParser struct {
	s   []byte
	i   int
	buf []byte
}

func (p *valueParser) fail(msg string) error { return &SyntaxError{Offset: p.i, Msg: msg} }

func (p *valueParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *valueParser) value(depth int) (any, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, p.fail("unexpected end of input")
	}
	c := p.s[p.i]
	if (c == '{' || c == '[') && depth >= maxDepth {
		return nil, p.fail("nested deeper than 1000 levels")
	}
	switch {
	case c == '{':
		p.i++
		m := map[string]any{}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return m, nil
		}
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, p.fail("want a string key")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, p.fail("want ':' after a key")
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m[k] = v
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return m, nil
			}
			return nil, p.fail("want ',' or '}' in an object")
		}
	case c == '[':
		p.i++
		a := []any{}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return a, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return a, nil
			}
			return nil, p.fail("want ',' or ']' in an array")
		}
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.word("true")
	case c == 'f':
		return false, p.word("false")
	case c == 'n':
		return nil, p.word("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, p.fail("unexpected character " + strconv.QuoteRune(rune(p.s[p.i])))
}

func (p *valueParser) word(w string) error {
	if len(p.s)-p.i < len(w) || string(p.s[p.i:p.i+len(w)]) != w {
		return p.fail("want " + w)
	}
	p.i += len(w)
	return nil
}

// number reads a number of JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *valueParser) number() (float64, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return 0, p.fail("a bad number")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return 0, p.fail("a bad number: no digits after '.'")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return 0, p.fail("a bad number: no digits in the exponent")
		}
	}
	f, err := strconv.ParseFloat(string(p.s[start:p.i]), 64)
	if err != nil {
		p.i = start
		return 0, p.fail("number " + string(p.s[start:min(len(p.s), start+40)]) + " is out of range of a float64")
	}
	return f, nil
}

// str reads a JSON string at p.i (a '"'), unescaping it.
func (p *valueParser) str() (string, error) {
	b, next, err := AppendUnquoted(p.buf[:0], p.s, p.i+1)
	if err != nil {
		return "", err
	}
	p.i, p.buf = next, b
	return string(b), nil
}

// AppendUnquoted appends the text of the JSON string whose content starts
// at s[i] (just after its opening quote) to b, unescaped, and returns it
// with the index just after the closing quote. As encoding/json does,
// invalid UTF-8 and lone surrogates become U+FFFD; a control character, a
// bad escape or a missing closing quote is a *SyntaxError whose Offset
// points into s. The D1 driver's result reader and Parse share it.
func AppendUnquoted[S ~string | ~[]byte](b []byte, s S, i int) ([]byte, int, error) {
	fail := func(i int, msg string) ([]byte, int, error) { return b, i, &SyntaxError{Offset: i, Msg: msg} }
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return b, i + 1, nil
		case c < 0x20:
			return fail(i, "a control character in a string")
		case c == '\\':
			if i+1 >= len(s) {
				return fail(i, "a cut escape")
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(s, i)
				if !ok {
					return fail(i, "a bad \\u escape")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A pair is two escapes; a lone surrogate (which
					// JSON.stringify escapes) reads as U+FFFD, as
					// JavaScript's TextEncoder would write it.
					dec := utf8.RuneError
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if r2, ok := hex4(s, i+2); ok && utf16.DecodeRune(r, r2) != utf8.RuneError {
							dec = utf16.DecodeRune(r, r2)
							i += 6
						}
					}
					r = dec
				}
				b = utf8.AppendRune(b, r)
			default:
				return fail(i-2, "a bad escape")
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return fail(i, "a cut string")
}

// hex4 reads the four hex digits of a \u escape at s[i].
func hex4[S ~string | ~[]byte](s S, i int) (rune, bool) {
	if len(s)-i < 4 {
		return 0, false
	}
	var r rune
	for j := i; j < i+4; j++ {
		c := s[j]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
