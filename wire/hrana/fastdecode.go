package hrana

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// fastPipelineResponse fills w from data in one pass, without reflection,
// as json.Unmarshal would. It handles the shapes servers send; on anything
// else (escapes in keys, keys that match only case-insensitively,
// duplicate keys, a field of an unexpected JSON type, very deep nesting,
// invalid JSON) it reports false, and the caller decodes with
// encoding/json instead, which then decides. So it never accepts what
// encoding/json would reject, nor reads anything differently
// (FuzzFastDecode checks both).
func fastPipelineResponse(data []byte, w *wPipelineResponse) bool {
	p := &fastParser{b: data}
	p.ws()
	if !p.object(func(key []byte) bool {
		switch string(key) {
		case "baton":
			return p.optString(&w.Baton)
		case "base_url":
			return p.optString(&w.BaseURL)
		case "results":
			return p.array(&w.Results, func() (*wStreamResult, bool) {
				var r *wStreamResult
				return r, p.nullOr(func() bool { r = &wStreamResult{}; return p.streamResult(r) })
			})
		}
		return p.skipUnknown(key)
	}) {
		return false
	}
	p.ws()
	return p.i == len(p.b)
}

type fastParser struct {
	b     []byte
	i     int
	depth int
}

// maxFastDepth bounds the nesting the fast path follows in skipped values.
const maxFastDepth = 256

func (p *fastParser) ws() {
	for p.i < len(p.b) && isSpace(p.b[p.i]) {
		p.i++
	}
}

func (p *fastParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *fastParser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// object parses an object, calling member for each key (with p at the
// value). Keys must be plain (no escapes), ASCII, and not repeated.
func (p *fastParser) object(member func(key []byte) bool) bool {
	if p.peek() != '{' {
		return false
	}
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
		return true
	}
	var seen [16][]byte // keys so far: a repeated key is left to encoding/json
	n := 0
	for {
		p.ws()
		key, ok := p.plainKey()
		if !ok {
			return false
		}
		if n == len(seen) {
			return false // many members: let encoding/json decide
		}
		for _, k := range seen[:n] {
			if string(k) == string(key) {
				return false
			}
		}
		seen[n] = key
		n++
		p.ws()
		if p.peek() != ':' {
			return false
		}
		p.i++
		p.ws()
		if !member(key) {
			return false
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// plainKey reads a key of printable ASCII without escapes.
func (p *fastParser) plainKey() ([]byte, bool) {
	if p.peek() != '"' {
		return nil, false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		c := p.b[j]
		if c == '"' {
			p.i = j + 1
			return p.b[start:j], true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
	}
	return nil, false
}

// skipUnknown skips the value of a key the target does not have, unless
// the key matches one of its fields case-insensitively (encoding/json
// would then fill that field).
func (p *fastParser) skipUnknown(key []byte) bool {
	for _, k := range knownKeys {
		if len(k) == len(key) && asciiEqualFold(k, string(key)) {
			return false
		}
	}
	return p.skip()
}

// knownKeys are the JSON names of every field of the response's wire
// structs.
var knownKeys = []string{
	"baton", "base_url", "results", "type", "response", "error", "result", "is_autocommit",
	"message", "code", "name", "decltype", "cols", "rows", "affected_row_count", "last_insert_rowid",
	"rows_read", "rows_written", "query_duration_ms", "step_results", "step_errors", "params",
	"is_explain", "is_readonly", "replication_index",
}

func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// nullOr reads null, or what f reads.
func (p *fastParser) nullOr(f func() bool) bool {
	if p.lit("null") {
		return true
	}
	return f()
}

// array reads null (leaving *dst nil) or an array of elements (a non-nil
// slice, empty for []), as encoding/json does.
func array[T any](p *fastParser, dst *[]T, elem func() (T, bool)) bool {
	if p.lit("null") {
		*dst = nil
		return true
	}
	if p.peek() != '[' {
		return false
	}
	p.i++
	out := make([]T, 0, 4)
	p.ws()
	if p.peek() == ']' {
		p.i++
		*dst = out
		return true
	}
	for {
		p.ws()
		v, ok := elem()
		if !ok {
			return false
		}
		out = append(out, v)
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			*dst = out
			return true
		default:
			return false
		}
	}
}

// array is a method wrapper so call sites read naturally.
func (p *fastParser) array(dst *[]*wStreamResult, elem func() (*wStreamResult, bool)) bool {
	return array(p, dst, elem)
}

// optString reads a string or null into a *string field.
func (p *fastParser) optString(dst **string) bool {
	if p.lit("null") {
		*dst = nil
		return true
	}
	s, ok := p.str()
	if !ok {
		return false
	}
	*dst = &s
	return true
}

// str reads a JSON string: directly when it is plain, else through
// encoding/json (escapes, invalid UTF-8), for identical results.
func (p *fastParser) str() (string, bool) {
	if p.peek() != '"' {
		return "", false
	}
	start := p.i
	plain := true
	for j := start + 1; j < len(p.b); j++ {
		c := p.b[j]
		switch {
		case c == '"':
			p.i = j + 1
			raw := p.b[start:p.i]
			if plain && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), true
			}
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			j++ // the escaped character; validated by encoding/json
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

// number returns the text of a JSON number.
func (p *fastParser) number() ([]byte, bool) {
	start := p.i
	s := scanner{b: p.b, i: p.i}
	if !s.number() {
		return nil, false
	}
	p.i = s.i
	return p.b[start:p.i], true
}

func (p *fastParser) optUint(dst **uint64) bool {
	if p.lit("null") {
		*dst = nil
		return true
	}
	raw, ok := p.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return false
	}
	*dst = &n
	return true
}

func (p *fastParser) optFloat(dst **float64) bool {
	if p.lit("null") {
		*dst = nil
		return true
	}
	raw, ok := p.number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return false
	}
	*dst = &f
	return true
}

func (p *fastParser) optBool(dst **bool) bool {
	switch {
	case p.lit("null"):
		*dst = nil
	case p.lit("true"):
		t := true
		*dst = &t
	case p.lit("false"):
		f := false
		*dst = &f
	default:
		return false
	}
	return true
}

func (p *fastParser) streamResult(r *wStreamResult) bool {
	return p.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return p.optString(&r.Type)
		case "response":
			r.Response = nil
			return p.nullOr(func() bool { r.Response = &wStreamResponse{}; return p.streamResponse(r.Response) })
		case "error":
			r.Error = nil
			return p.nullOr(func() bool { r.Error = &wError{}; return p.errorObj(r.Error) })
		}
		return p.skipUnknown(key)
	})
}

func (p *fastParser) errorObj(e *wError) bool {
	return p.object(func(key []byte) bool {
		switch string(key) {
		case "message":
			return p.optString(&e.Message)
		case "code":
			return p.optString(&e.Code)
		}
		return p.skipUnknown(key)
	})
}

func (p *fastParser) streamResponse(r *wStreamResponse) bool {
	return p.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return p.optString(&r.Type)
		case "is_autocommit":
			return p.optBool(&r.IsAutocommit)
		case "result":
			r.Result = nil
			return p.nullOr(func() bool { r.Result = &wResultUnion{}; return p.resultUnion(r.Result) })
		}
		return p.skipUnknown(key)
	})
}

func (p *fastParser) resultUnion(u *wResultUnion) bool {
	return p.object(func(key []byte) bool {
		switch string(key) {
		case "step_results":
			return array(p, &u.StepResults, func() (*wStmtResult, bool) {
				var s *wStmtResult
				return s, p.nullOr(func() bool { s = &wStmtResult{}; return p.stmtResult(s) })
			})
		case "step_errors":
			return array(p, &u.StepErrors, func() (*wError, bool) {
				var e *wError
				return e, p.nullOr(func() bool { e = &wError{}; return p.errorObj(e) })
			})
		case "params":
			return array(p, &u.Params, func() (*wDescribeParam, bool) {
				var d *wDescribeParam
				return d, p.nullOr(func() bool {
					d = &wDescribeParam{}
					return p.object(func(key []byte) bool {
						if string(key) == "name" {
							return p.optString(&d.Name)
						}
						return p.skipUnknown(key)
					})
				})
			})
		case "is_explain":
			return p.optBool(&u.IsExplain)
		case "is_readonly":
			return p.optBool(&u.IsReadonly)
		}
		return p.stmtResultMember(&u.wStmtResult, key)
	})
}

func (p *fastParser) stmtResult(s *wStmtResult) bool {
	return p.object(func(key []byte) bool { return p.stmtResultMember(s, key) })
}

func (p *fastParser) stmtResultMember(s *wStmtResult, key []byte) bool {
	switch string(key) {
	case "cols":
		return array(p, &s.Cols, func() (*wCol, bool) {
			var c *wCol
			return c, p.nullOr(func() bool {
				c = &wCol{}
				return p.object(func(key []byte) bool {
					switch string(key) {
					case "name":
						return p.optString(&c.Name)
					case "decltype":
						return p.optString(&c.Decltype)
					}
					return p.skipUnknown(key)
				})
			})
		})
	case "rows":
		return array(p, &s.Rows, func() ([]Value, bool) {
			var row []Value
			return row, array(p, &row, p.value)
		})
	case "affected_row_count":
		return p.optUint(&s.AffectedRowCount)
	case "last_insert_rowid":
		return p.optString(&s.LastInsertRowID)
	case "rows_read":
		return p.optUint(&s.RowsRead)
	case "rows_written":
		return p.optUint(&s.RowsWritten)
	case "query_duration_ms":
		return p.optFloat(&s.QueryDurationMS)
	case "replication_index":
		return p.optString(&s.ReplicationIndex)
	}
	return p.skipUnknown(key)
}

// value reads one Value with the same function encoding/json would call.
func (p *fastParser) value() (Value, bool) {
	start := p.i
	if !p.skip() {
		return Value{}, false
	}
	var v Value
	if v.UnmarshalJSON(p.b[start:p.i]) != nil {
		return Value{}, false
	}
	return v, true
}

// skip validates and skips any JSON value.
func (p *fastParser) skip() bool {
	switch c := p.peek(); {
	case c == '"':
		return p.skipString()
	case c == '{' || c == '[':
		if p.depth >= maxFastDepth {
			return false
		}
		p.depth++
		defer func() { p.depth-- }()
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p.i++
		p.ws()
		if p.peek() == closer {
			p.i++
			return true
		}
		for {
			p.ws()
			if c == '{' {
				if !p.skipString() {
					return false
				}
				p.ws()
				if p.peek() != ':' {
					return false
				}
				p.i++
				p.ws()
			}
			if !p.skip() {
				return false
			}
			p.ws()
			switch p.peek() {
			case ',':
				p.i++
			case closer:
				p.i++
				return true
			default:
				return false
			}
		}
	case c == '-' || ('0' <= c && c <= '9'):
		_, ok := p.number()
		return ok
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	}
	return false
}

// skipString validates and skips a string.
func (p *fastParser) skipString() bool {
	if p.peek() != '"' {
		return false
	}
	for j := p.i + 1; j < len(p.b); j++ {
		c := p.b[j]
		switch {
		case c == '"':
			p.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if j+1 >= len(p.b) {
				return false
			}
			switch p.b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+5 >= len(p.b) {
					return false
				}
				for _, h := range p.b[j+2 : j+6] {
					if !isHex(h) {
						return false
					}
				}
				j += 5
			default:
				return false
			}
		}
	}
	return false
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
