package gateway

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reads PostgreSQL SQL as PostgreSQL's lexer (scan.l) does, for
// the statement guard (pgguard.go): comments (nested /* */), string
// constants ('', E'', B'', X'', N'', U&''), dollar-quoted strings,
// quoted identifiers ("" and U&"" with UESCAPE), parameters and
// statement-ending semicolons. Unquoted identifiers and keywords are
// folded to lower case, as PostgreSQL folds them; quoted ones are
// returned decoded, with their case.

// pgToken kinds.
const (
	pgWord   = iota // an unquoted keyword or identifier, lower-cased
	pgIdent         // a quoted identifier, decoded
	pgString        // a string constant or dollar-quoted body (text: its content)
	pgSemi          // ;
	pgLParen        // (
	pgOther         // numbers, operators, parameters, punctuation
)

// pgToken is one token of PostgreSQL SQL.
type pgToken struct {
	kind int
	text string
}

// errPgLex is returned for SQL PostgreSQL's own lexer rejects
// (unterminated strings, comments or identifiers); such SQL never runs.
var errPgLex = errors.New("unterminated string, identifier or comment")

// pgTokens splits sql into tokens. backslashQuote reads ” strings as
// PostgreSQL does with standard_conforming_strings off (a backslash
// escapes the next character); PostgreSQL's default (on) reads them
// literally. The guard reads SQL both ways, since a session may change
// that setting.
func pgTokens(sql string, backslashQuote bool) ([]pgToken, error) {
	var out []pgToken
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 1
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			depth := 0
			for {
				if i+1 >= len(sql) {
					return nil, errPgLex
				}
				if sql[i] == '/' && sql[i+1] == '*' {
					depth++
					i += 2
				} else if sql[i] == '*' && sql[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		case c == '\'':
			s, n, err := pgQuoted(sql[i:], '\'', backslashQuote)
			if err != nil {
				return nil, err
			}
			out = append(out, pgToken{pgString, s})
			i += n
		case (c == 'e' || c == 'E') && i+1 < len(sql) && sql[i+1] == '\'':
			s, n, err := pgQuoted(sql[i+1:], '\'', true)
			if err != nil {
				return nil, err
			}
			out = append(out, pgToken{pgString, s})
			i += n + 1
		case (c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && i+1 < len(sql) && sql[i+1] == '\'':
			s, n, err := pgQuoted(sql[i+1:], '\'', backslashQuote && (c == 'n' || c == 'N'))
			if err != nil {
				return nil, err
			}
			out = append(out, pgToken{pgString, s})
			i += n + 1
		case (c == 'u' || c == 'U') && i+2 < len(sql) && sql[i+1] == '&' && (sql[i+2] == '\'' || sql[i+2] == '"'):
			q := sql[i+2]
			s, n, err := pgQuoted(sql[i+2:], q, false)
			if err != nil {
				return nil, err
			}
			i += n + 2
			esc := byte('\\')
			if e, m, ok := pgUescape(sql[i:]); ok {
				esc, i = e, i+m
			}
			dec, err := pgUnicodeUnescape(s, esc)
			if err != nil {
				return nil, err
			}
			kind := pgString
			if q == '"' {
				kind = pgIdent
			}
			out = append(out, pgToken{kind, dec})
		case c == '"':
			s, n, err := pgQuoted(sql[i:], '"', false)
			if err != nil {
				return nil, err
			}
			out = append(out, pgToken{pgIdent, s})
			i += n
		case c == '$' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9':
			j := i + 1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			out = append(out, pgToken{pgOther, sql[i:j]})
			i = j
		case c == '$':
			j := i + 1
			for j < len(sql) && pgIdentChar(sql[j]) && sql[j] != '$' {
				j++
			}
			if j < len(sql) && sql[j] == '$' && (j == i+1 || pgIdentStart(sql[i+1])) {
				tag := sql[i : j+1]
				end := strings.Index(sql[j+1:], tag)
				if end < 0 {
					return nil, errPgLex
				}
				out = append(out, pgToken{pgString, sql[j+1 : j+1+end]})
				i = j + 1 + end + len(tag)
			} else {
				out = append(out, pgToken{pgOther, "$"})
				i++
			}
		case pgIdentStart(c):
			j := i
			for j < len(sql) && pgIdentChar(sql[j]) {
				j++
			}
			out = append(out, pgToken{pgWord, asciiLower(sql[i:j])})
			i = j
		case c == ';':
			out = append(out, pgToken{pgSemi, ";"})
			i++
		case c == '(':
			out = append(out, pgToken{pgLParen, "("})
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && (pgIdentChar(sql[j]) && sql[j] != '$' || sql[j] == '.') {
				j++
			}
			out = append(out, pgToken{pgOther, sql[i:j]})
			i = j
		default:
			out = append(out, pgToken{pgOther, sql[i : i+1]})
			i++
		}
	}
	return out, nil
}

func pgIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func pgIdentChar(c byte) bool { return pgIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// pgQuoted reads the quoted token at the start of s (s[0] is the quote):
// a doubled quote is one quote; with backslash, a backslash escapes the
// next character. It returns the content (escapes kept but for the
// quotes) and the length read. A string constant followed by white space
// holding a newline and another string constant continues it, as in SQL.
func pgQuoted(s string, q byte, backslash bool) (string, int, error) {
	var b strings.Builder
	i := 1
	for {
		if i >= len(s) {
			return "", 0, errPgLex
		}
		c := s[i]
		switch {
		case backslash && c == '\\':
			if i+1 >= len(s) {
				return "", 0, errPgLex
			}
			if s[i+1] == q {
				b.WriteByte(q)
			} else {
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
			}
			i += 2
			continue
		case c == q && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i += 2
			continue
		case c == q:
			i++
			if q == '\'' {
				// 'a'
				// 'b' is 'ab' when white space with a newline (and
				// -- comments) separates them.
				j, nl := i, false
				for j < len(s) {
					if s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '\f' || s[j] == '\v' {
						nl = nl || s[j] == '\n' || s[j] == '\r'
						j++
					} else if nl && strings.HasPrefix(s[j:], "--") {
						k := strings.IndexByte(s[j:], '\n')
						if k < 0 {
							break
						}
						j += k
					} else {
						break
					}
				}
				if nl && j < len(s) && s[j] == '\'' {
					rest, n, err := pgQuoted(s[j:], q, backslash)
					if err != nil {
						return "", 0, err
					}
					b.WriteString(rest)
					return b.String(), j + n, nil
				}
			}
			return b.String(), i, nil
		}
		b.WriteByte(c)
		i++
	}
}

// pgUescape reads an optional UESCAPE 'c' clause after a U& token.
func pgUescape(s string) (esc byte, n int, ok bool) {
	t := strings.TrimLeft(s, " \t\n\r\f\v")
	if len(t) < 7 || !strings.EqualFold(t[:7], "uescape") {
		return 0, 0, false
	}
	u := strings.TrimLeft(t[7:], " \t\n\r\f\v")
	if len(u) < 3 || u[0] != '\'' || u[2] != '\'' {
		return 0, 0, false
	}
	return u[1], len(s) - len(u) + 3, true
}

// pgUnicodeUnescape decodes a U& token's escapes: esc followed by four
// hex digits, esc '+' six hex digits, or esc esc.
func pgUnicodeUnescape(s string, esc byte) (string, error) {
	if strings.IndexByte(s, esc) < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != esc {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == esc {
			b.WriteByte(esc)
			i++
			continue
		}
		n := 4
		start := i + 1
		if start < len(s) && s[start] == '+' {
			n, start = 6, start+1
		}
		if start+n > len(s) {
			return "", errPgLex
		}
		r, err := strconv.ParseUint(s[start:start+n], 16, 32)
		if err != nil || !utf8.ValidRune(rune(r)) {
			return "", errPgLex
		}
		b.WriteRune(rune(r))
		i = start + n - 1
	}
	return b.String(), nil
}

// asciiLower folds ASCII letters only, as PostgreSQL folds unquoted
// identifiers in a multibyte encoding.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
