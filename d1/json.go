package d1

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/wire/jsonx"
)

// Values cross between Go and JavaScript as JSON text: one string per
// statement's arguments and one per result, instead of one syscall/js Value
// per argument and per cell. Every Value that refers to a JavaScript
// string or object costs a finalizer in the Go runtime, which measured tens
// of microseconds each in a Worker; numbers and null cost none.
//
// The JSON is what JSON.stringify writes for what D1 returns (arrays of
// null, numbers, strings and arrays of byte numbers), and what JSON.parse
// reads for what D1 binds. JSON loses nothing D1 keeps: D1 itself moves
// values as JSON between the binding and the database (so -0, NaN and
// infinities are already gone by then), numbers are written in their
// shortest exact form, and blobs are sent as Uint8Array, not in the JSON.

// errSlowPath means a result holds a value JSON does not carry (an
// ArrayBuffer or a typed array stringifies as an object): decode it value
// by value instead.
var errSlowPath = errors.New("forge/d1: a value JSON does not carry")

// appendArgs appends the JSON array of the bound values vals (as bindValue
// returns them), writing null in the place of each []byte; it returns the
// positions of those, which the caller sets as Uint8Arrays.
func appendArgs(b []byte, vals []any) ([]byte, []int) {
	var blobs []int
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		switch x := v.(type) {
		case nil:
			b = append(b, "null"...)
		case float64:
			if x == math.Trunc(x) && math.Abs(x) <= maxSafe {
				b = strconv.AppendInt(b, int64(x), 10)
			} else {
				b = strconv.AppendFloat(b, x, 'g', -1, 64)
			}
		case string:
			b = jsonx.AppendString(b, x)
		case []byte:
			b = append(b, "null"...)
			blobs = append(blobs, i)
		default:
			panic(fmt.Sprintf("forge/d1: appendArgs of a %T", v)) // bindValue returns none
		}
	}
	return append(b, ']'), blobs
}

// parser reads the JSON that JSON.stringify writes for D1 results.
type parser struct {
	s   string
	i   int
	buf []byte
}

func (p *parser) fail(what string) error {
	return fmt.Errorf("forge/d1: reading D1's result: %s at offset %d", what, p.i)
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\r' || p.s[p.i] == '\t') {
		p.i++
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (p *parser) peek() byte {
	p.skipSpace()
	if p.i >= len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func (p *parser) expect(c byte) error {
	if p.peek() != c {
		return p.fail(fmt.Sprintf("want %q", c))
	}
	p.i++
	return nil
}

// list calls item for each element of an array (open '[' or '{' ... close).
func (p *parser) list(open, close byte, item func() error) error {
	if err := p.expect(open); err != nil {
		return err
	}
	if p.peek() == close {
		p.i++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case close:
			p.i++
			return nil
		default:
			return p.fail(fmt.Sprintf("want ',' or %q", close))
		}
	}
}

// value reads one cell: null, a boolean, a number, a string, or an array of
// byte numbers (a blob). An object means errSlowPath.
func (p *parser) value() (any, error) {
	switch c := p.peek(); {
	case c == 'n':
		return nil, p.word("null")
	case c == 't':
		return true, p.word("true")
	case c == 'f':
		return false, p.word("false")
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		f, err := p.number()
		if err != nil {
			return nil, err
		}
		return readNumber(f), nil
	case c == '[':
		b := []byte{}
		err := p.list('[', ']', func() error {
			f, err := p.number()
			if err != nil {
				return err
			}
			if f != math.Trunc(f) || f < 0 || f > 255 {
				return p.fail(fmt.Sprintf("a blob holds %v, not a byte", f))
			}
			b = append(b, byte(f))
			return nil
		})
		return b, err
	case c == '{':
		return nil, errSlowPath
	}
	return nil, p.fail("want a value")
}

func (p *parser) word(w string) error {
	if len(p.s)-p.i < len(w) || p.s[p.i:p.i+len(w)] != w {
		return p.fail("want " + w)
	}
	p.i += len(w)
	return nil
}

func (p *parser) number() (float64, error) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	f, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil {
		return 0, p.fail("a bad number")
	}
	return f, nil
}

// str reads a JSON string, unescaping it.
func (p *parser) str() (string, error) {
	if err := p.expect('"'); err != nil {
		return "", err
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '"' && p.s[p.i] != '\\' {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '"' { // no escapes: a substring
		p.i++
		return p.s[start : p.i-1], nil
	}
	b, next, err := jsonx.AppendUnquoted(append(p.buf[:0], p.s[start:p.i]...), p.s, p.i)
	if err != nil {
		var se *jsonx.SyntaxError
		if errors.As(err, &se) {
			p.i = se.Offset
			return "", p.fail(se.Msg)
		}
		return "", err
	}
	p.i, p.buf = next, b
	return string(b), nil
}

func (p *parser) end() error {
	if p.peek() != 0 {
		return p.fail("trailing text")
	}
	return nil
}

// parseRaw reads JSON.stringify of raw({columnNames: true}): an array of
// the column names, then one array of values per row.
func parseRaw(s string) (*driver.BufferedRows, error) {
	p := &parser{s: s}
	r := &driver.BufferedRows{}
	first := true
	err := p.list('[', ']', func() error {
		if first {
			first = false
			return p.list('[', ']', func() error {
				name, err := p.str()
				r.Cols = append(r.Cols, name)
				return err
			})
		}
		row := make([]any, 0, len(r.Cols))
		err := p.list('[', ']', func() error {
			v, err := p.value()
			row = append(row, v)
			return err
		})
		if err == nil && len(row) != len(r.Cols) {
			return fmt.Errorf("forge/d1: D1 returned a row of %d values for %d columns", len(row), len(r.Cols))
		}
		r.Values = append(r.Values, row)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, p.end()
}

// parseObjects reads JSON.stringify of rows given as objects keyed by
// column name (what db.batch returns), in the key order of the first row;
// every row must have the same keys in the same order.
func parseObjects(s string) (*driver.BufferedRows, error) {
	p := &parser{s: s}
	r := &driver.BufferedRows{}
	first := true
	err := p.list('[', ']', func() error {
		row := make([]any, 0, len(r.Cols))
		j := 0
		err := p.list('{', '}', func() error {
			k, err := p.str()
			if err != nil {
				return err
			}
			if first {
				if isArrayIndex(k) {
					return fmt.Errorf("forge/d1: a batch statement returned a column named %q; D1 returns batch rows as objects, which reorder integer-like keys, so name the column otherwise", k)
				}
				r.Cols = append(r.Cols, k)
			} else if j >= len(r.Cols) || r.Cols[j] != k {
				return fmt.Errorf("forge/d1: the rows of a batch result have different columns (%q)", k)
			}
			j++
			if err := p.expect(':'); err != nil {
				return err
			}
			v, err := p.value()
			row = append(row, v)
			return err
		})
		if err == nil && len(row) != len(r.Cols) {
			err = fmt.Errorf("forge/d1: the rows of a batch result have different columns")
		}
		first = false
		r.Values = append(r.Values, row)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, p.end()
}
