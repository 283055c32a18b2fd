package main

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/schema"
)

// literalDefault reads a column's default SQL (as introspection reports it)
// as a value of the Go type forge uses for the column's kind: string,
// int64, int32, float64, bool, time.Time, []byte, or, for JSON, the JSON
// text. It reports false for anything but a literal.
func literalDefault(d dialect.Dialect, c *schema.Column) (any, bool) {
	if c.Default == nil {
		return nil, false
	}
	e := stripParens(strings.TrimSpace(c.Default.Expr))
	if d == dialect.Postgres {
		e = stripParens(stripCast(e))
	}
	var text string
	quoted, hexBlob := false, false
	switch {
	case len(e) >= 2 && e[0] == '\'' && e[len(e)-1] == '\'':
		s, ok := unquoteSQL(e)
		if !ok {
			return nil, false
		}
		text, quoted = s, true
	case len(e) >= 3 && (e[0] == 'X' || e[0] == 'x') && e[1] == '\'' && e[len(e)-1] == '\'':
		text, hexBlob = e[2:len(e)-1], true
	default:
		text = e
	}
	switch c.Kind {
	case schema.Text, schema.TextID:
		if quoted {
			return text, true
		}
	case schema.Int64:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil && !hexBlob {
			return n, true
		}
	case schema.Int32:
		if n, err := strconv.ParseInt(text, 10, 32); err == nil && !hexBlob {
			return int32(n), true
		}
	case schema.Float:
		if f, err := strconv.ParseFloat(text, 64); err == nil && !hexBlob && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, true
		}
	case schema.Bool:
		switch strings.ToLower(text) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	case schema.Time:
		if quoted {
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07:00:00"} {
				if t, err := time.Parse(layout, text); err == nil {
					return t.UTC(), true
				}
			}
		}
	case schema.Bytes:
		if hexBlob {
			if b, err := hex.DecodeString(text); err == nil {
				return b, true
			}
		}
		if quoted && d == dialect.Postgres && strings.HasPrefix(text, `\x`) {
			if b, err := hex.DecodeString(text[2:]); err == nil {
				return b, true
			}
		}
	case schema.JSON:
		if quoted && json.Valid([]byte(text)) {
			return text, true
		}
	}
	return nil, false
}

// stripParens removes balanced outer parentheses.
func stripParens(s string) string {
	for len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' && balancedParens(s[1:len(s)-1]) {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

func balancedParens(s string) bool {
	depth := 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			inQuote = !inQuote
		case inQuote:
		case s[i] == '(':
			depth++
		case s[i] == ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0 && !inQuote
}

// stripCast removes the cast PostgreSQL adds to a stored default
// ('x'::text, '{}'::jsonb, '-1'::integer): everything from the first "::"
// outside quotes, when what follows is only a type name.
func stripCast(s string) string {
	inQuote := false
	for i := 0; i+1 < len(s); i++ {
		switch {
		case s[i] == '\'':
			inQuote = !inQuote
		case inQuote:
		case s[i] == ':' && s[i+1] == ':':
			if strings.ContainsAny(s[i+2:], "'|+-*/,") {
				return s
			}
			return strings.TrimSpace(s[:i])
		}
	}
	return s
}

// unquoteSQL reads a standard SQL string literal, where a doubled quote
// stands for a quote.
func unquoteSQL(s string) (string, bool) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", false
	}
	inner := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\'' {
			if i+1 < len(inner) && inner[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return "", false // a quote inside: an expression, not one literal
		}
		b.WriteByte(inner[i])
	}
	return b.String(), true
}
