package main

import (
	"fmt"
	"strings"
)

// splitSQL splits a SQL script into its statements, at the semicolons that
// end them. A semicolon does not end a statement inside
//
//   - a string literal: 'a;b' (a quote inside is doubled) and PostgreSQL's
//     E'it\'s;'
//   - a quoted identifier: "a;b" (and SQLite's `a;b`)
//   - a comment: -- to the end of the line, /* ... */ (nested, as
//     PostgreSQL allows)
//   - a PostgreSQL dollar-quoted body: $$ ... $$ or $tag$ ... $tag$
//   - the BEGIN ... END block of CREATE TRIGGER (SQLite) and of
//     CREATE FUNCTION/PROCEDURE ... BEGIN ATOMIC (PostgreSQL), with the
//     CASE ... END expressions inside it
//
// Each statement is returned without its semicolon, leading comments and
// surrounding white space; empty statements are dropped. An unterminated
// string, identifier, comment, body or block is an error naming its line.
func splitSQL(src string) ([]string, error) {
	var out []string
	start := -1 // start of the current statement; -1 between statements
	var words []string
	depth := 0 // BEGIN/CASE ... END nesting inside a block statement
	block := false
	end := func(stop int) {
		if start >= 0 {
			if s := strings.TrimSpace(src[start:stop]); s != "" {
				out = append(out, s)
			}
		}
		start, words, depth, block = -1, words[:0], 0, false
	}
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		switch {
		case c == '-' && i+1 < n && src[i+1] == '-':
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				i = n
			} else {
				i += j + 1
			}
		case c == '/' && i+1 < n && src[i+1] == '*':
			j, err := skipBlockComment(src, i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		default:
			if start < 0 {
				start = i
			}
			switch {
			case c == ';':
				if depth > 0 {
					i++
					continue
				}
				end(i)
				i++
			case c == '\'':
				escapes := i > 0 && (src[i-1] == 'E' || src[i-1] == 'e') && (i < 2 || !isIdentByte(src[i-2]))
				j, err := skipQuoted(src, i, '\'', escapes)
				if err != nil {
					return nil, err
				}
				i = j
			case c == '"' || c == '`':
				j, err := skipQuoted(src, i, c, false)
				if err != nil {
					return nil, err
				}
				i = j
			case c == '$' && (i == 0 || !isIdentByte(src[i-1])):
				tag, ok := dollarTag(src, i)
				if !ok {
					i++
					continue
				}
				j := strings.Index(src[i+len(tag):], tag)
				if j < 0 {
					return nil, fmt.Errorf("line %d: the body opened by %s is not closed", lineOf(src, i), tag)
				}
				i += len(tag) + j + len(tag)
			case isIdentStart(c):
				j := i + 1
				for j < n && isIdentByte(src[j]) {
					j++
				}
				w := strings.ToUpper(src[i:j])
				if len(words) < 6 {
					words = append(words, w)
					block = block || blockStatement(words)
				}
				if block {
					switch w {
					case "BEGIN":
						depth++
					case "CASE":
						if depth > 0 {
							depth++
						}
					case "END":
						if depth > 0 {
							depth--
						}
					}
				}
				i = j
			default:
				i++
			}
		}
	}
	if depth > 0 {
		return nil, fmt.Errorf("line %d: the BEGIN ... END block of this statement is not closed (a missing END?)", lineOf(src, start))
	}
	end(n)
	return out, nil
}

// blockStatement reports whether the first words of a statement start one
// whose body is a BEGIN ... END block: CREATE [OR REPLACE] [TEMP|TEMPORARY]
// TRIGGER, FUNCTION or PROCEDURE.
func blockStatement(words []string) bool {
	if len(words) < 2 || words[0] != "CREATE" {
		return false
	}
	for _, w := range words[1:] {
		switch w {
		case "OR", "REPLACE", "TEMP", "TEMPORARY":
			continue
		case "TRIGGER", "FUNCTION", "PROCEDURE":
			return true
		}
		return false
	}
	return false
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

// skipQuoted skips the quoted text starting at src[i] == q, where a doubled
// q stands for itself (and, with escapes, a backslash escapes the next
// byte), and returns the index after the closing quote.
func skipQuoted(src string, i int, q byte, escapes bool) (int, error) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if escapes {
				j++
			}
		case q:
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	what := "string"
	if q != '\'' {
		what = "quoted identifier"
	}
	return 0, fmt.Errorf("line %d: the %s opened here is not closed (a missing %c?)", lineOf(src, i), what, q)
}

// skipBlockComment skips /* ... */ comments, nested as PostgreSQL nests
// them, from src[i:i+2] == "/*".
func skipBlockComment(src string, i int) (int, error) {
	depth := 0
	for j := i; j+1 < len(src); {
		switch {
		case src[j] == '/' && src[j+1] == '*':
			depth++
			j += 2
		case src[j] == '*' && src[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, nil
			}
		default:
			j++
		}
	}
	return 0, fmt.Errorf("line %d: the comment opened here is not closed (a missing */?)", lineOf(src, i))
}

// dollarTag reads a PostgreSQL dollar-quote tag ($$ or $name$) at src[i].
func dollarTag(src string, i int) (string, bool) {
	j := i + 1
	for j < len(src) && src[j] != '$' {
		c := src[j]
		if !(isIdentStart(c) || j > i+1 && c >= '0' && c <= '9') {
			return "", false
		}
		j++
	}
	if j >= len(src) {
		return "", false
	}
	return src[i : j+1], true
}

func lineOf(src string, i int) int { return strings.Count(src[:i], "\n") + 1 }

// transactionControl reports a statement that starts, ends or rolls back
// a transaction: forge runs each migration file in a transaction of its
// own, so a file must not.
func transactionControl(stmt string) bool {
	f := strings.Fields(strings.ToUpper(stmt))
	if len(f) == 0 {
		return false
	}
	first := strings.TrimRight(f[0], ";")
	switch first {
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE":
		return true
	case "START":
		return len(f) > 1 && f[1] == "TRANSACTION"
	}
	return false
}
