package hrana

import (
	"unicode/utf8"
)

// fastValue decodes the common shapes of a Value object without
// reflection: keys and strings without escapes, numbers, null. It reports
// ok=false for anything else (escapes, nested values, duplicate or
// unknown keys, invalid JSON), and the caller then takes the general
// path, so it never decides what the general path would reject. raw
// holds the members found: their JSON text.
func fastValue(data []byte) (typ, value, b64 []byte, ok bool) {
	p := scanner{b: data}
	p.ws()
	if !p.eat('{') {
		return nil, nil, nil, false
	}
	p.ws()
	if p.eat('}') {
		p.ws()
		return nil, nil, nil, p.i == len(p.b)
	}
	for {
		p.ws()
		key, ok := p.plainString()
		if !ok {
			return nil, nil, nil, false
		}
		p.ws()
		if !p.eat(':') {
			return nil, nil, nil, false
		}
		p.ws()
		start := p.i
		if !p.scalar() {
			return nil, nil, nil, false
		}
		val := p.b[start:p.i]
		switch string(key) {
		case "type":
			if typ != nil {
				return nil, nil, nil, false
			}
			typ = val
		case "value":
			if value != nil {
				return nil, nil, nil, false
			}
			value = val
		case "base64":
			if b64 != nil {
				return nil, nil, nil, false
			}
			b64 = val
		default:
			return nil, nil, nil, false
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		if !p.eat('}') {
			return nil, nil, nil, false
		}
		p.ws()
		return typ, value, b64, p.i == len(p.b)
	}
}

type scanner struct {
	b []byte
	i int
}

func (p *scanner) ws() {
	for p.i < len(p.b) && isSpace(p.b[p.i]) {
		p.i++
	}
}

func (p *scanner) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// plainString reads a string with no escapes and no control characters,
// in valid UTF-8, and returns its contents.
func (p *scanner) plainString() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// scalar reads a plain string, a JSON number or null.
func (p *scanner) scalar() bool {
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, ok := p.plainString()
		return ok
	case c == 'n':
		if len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "null" {
			p.i += 4
			return true
		}
		return false
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *scanner) number() bool {
	p.eat('-')
	if p.eat('0') {
	} else if p.digits() == 0 {
		return false
	}
	if p.eat('.') && p.digits() == 0 {
		return false
	}
	if p.eat('e') || p.eat('E') {
		if !p.eat('+') {
			p.eat('-')
		}
		if p.digits() == 0 {
			return false
		}
	}
	// A number must end here: at a delimiter or the end.
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

func (p *scanner) digits() int {
	n := 0
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}
