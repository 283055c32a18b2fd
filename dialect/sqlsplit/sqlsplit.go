// Package sqlsplit splits a SQL script into its statements, at the
// semicolons that end them, as the database's own parser would. It is
// used by the forge command (migration files) and by forge gateway (the
// Hrana sequence request, statement counting and transaction-control
// detection), and needs nothing but the standard library.
package sqlsplit

import (
	"fmt"
	"strings"
)

// Syntax is the lexical rules of one SQL dialect that decide where a
// statement ends.
type Syntax struct {
	// DollarQuotes: $$ ... $$ and $tag$ ... $tag$ are string bodies
	// (PostgreSQL). Without it, $name is a parameter (SQLite's $a, with
	// its TCL-style $a::b(c) forms).
	DollarQuotes bool
	// EscapeStrings: in E'...' a backslash escapes the next byte
	// (PostgreSQL).
	EscapeStrings bool
	// NestedComments: /* /* */ */ nests (PostgreSQL).
	NestedComments bool
	// Brackets: [a;b] is a quoted identifier (SQLite).
	Brackets bool
	// Backticks: `a;b` is a quoted identifier (SQLite, MySQL).
	Backticks bool
	// Blocks are the object kinds whose CREATE statement may hold a
	// BEGIN ... END body with semicolons inside: TRIGGER (SQLite),
	// FUNCTION and PROCEDURE (PostgreSQL's BEGIN ATOMIC).
	Blocks []string
}

var (
	// SQLite is SQLite's syntax (and so D1's, libSQL's and sqld's).
	SQLite = Syntax{Brackets: true, Backticks: true, Blocks: []string{"TRIGGER"}}
	// PostgreSQL is PostgreSQL's syntax.
	PostgreSQL = Syntax{DollarQuotes: true, EscapeStrings: true, NestedComments: true, Blocks: []string{"FUNCTION", "PROCEDURE"}}
	// Portable is the union of PostgreSQL's rules, backticks and SQLite's
	// triggers, for a script whose dialect is not known (forge's
	// migration files): a semicolon that one of the databases would not
	// end a statement at does not end one.
	Portable = Syntax{DollarQuotes: true, EscapeStrings: true, NestedComments: true, Backticks: true, Blocks: []string{"TRIGGER", "FUNCTION", "PROCEDURE"}}
)

// Error is a script that does not end where a statement can: an
// unterminated string, quoted identifier, comment, dollar-quoted body or
// BEGIN ... END block.
type Error struct {
	Line int    // the 1-based line where the unterminated part opens
	Msg  string // what is not closed, and the likely fix
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Split splits src into its statements. A semicolon does not end a
// statement inside
//
//   - a string literal: 'a;b' (a quote inside is doubled), and with
//     EscapeStrings E'it\'s;'
//   - a quoted identifier: "a;b", and with Backticks `a;b`, with Brackets
//     [a;b]
//   - a comment: -- to the end of the line, /* ... */ (nested with
//     NestedComments)
//   - with DollarQuotes, a dollar-quoted body: $$ ... $$ or $tag$ ... $tag$
//   - the BEGIN ... END body of CREATE TRIGGER (SQLite) or CREATE
//     FUNCTION/PROCEDURE ... BEGIN ATOMIC (PostgreSQL), as Blocks says,
//     with the CASE ... END expressions inside it: CREATE TRIGGER ... BEGIN
//     UPDATE t SET a = CASE WHEN x THEN 1 END; END is one statement, as
//     SQLite's parser (and sqld's) reads it. The body ends at the END that
//     follows one of its semicolons (or BEGIN [ATOMIC]) outside CASE ...
//     END; elsewhere in it, begin and end are names, as SQLite lets them
//     be (SELECT end FROM t), so no statement hides inside a body.
//
// Each statement is returned without its semicolon, leading comments and
// surrounding white space; empty statements are dropped. An unterminated
// part is an *Error naming its line, and no statement is returned.
func Split(src string, syn Syntax) ([]string, error) {
	var out []string
	start := -1 // start of the current statement; -1 between statements
	var words []string
	// The body of a block statement: from its BEGIN to the END that
	// follows a ';' (or BEGIN [ATOMIC]) outside CASE ... END. Elsewhere
	// in the body begin and end are names (SQLite lets them be).
	block := false // the statement is one of syn.Blocks
	body, done := false, false
	cases := 0         // CASE ... END nesting inside the body
	stmtStart := false // the body's next token starts one of its statements
	end := func(stop int) {
		if start >= 0 {
			if s := strings.TrimSpace(src[start:stop]); s != "" {
				out = append(out, s)
			}
		}
		start, words, block, body, done, cases = -1, words[:0], false, false, false, 0
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
			j, err := skipBlockComment(src, i, syn.NestedComments)
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
			var err error
			wasStart := stmtStart
			stmtStart = false
			switch {
			case c == ';':
				if body {
					stmtStart = true
					i++
					continue
				}
				end(i)
				i++
			case c == '\'':
				escapes := syn.EscapeStrings && i > 0 && (src[i-1] == 'E' || src[i-1] == 'e') && (i < 2 || !isIdentByte(src[i-2]))
				i, err = skipQuoted(src, i, '\'', escapes)
			case c == '"' || c == '`' && syn.Backticks:
				i, err = skipQuoted(src, i, c, false)
			case c == '[' && syn.Brackets:
				j := strings.IndexByte(src[i:], ']')
				if j < 0 {
					return nil, &Error{lineOf(src, i), "the quoted identifier opened here is not closed (a missing ]?)"}
				}
				i += j + 1
			case c == '$' && syn.DollarQuotes && (i == 0 || !isIdentByte(src[i-1])):
				tag, ok := dollarTag(src, i)
				if !ok {
					i++
					continue
				}
				j := strings.Index(src[i+len(tag):], tag)
				if j < 0 {
					return nil, &Error{lineOf(src, i), "the body opened by " + tag + " is not closed"}
				}
				i += len(tag) + j + len(tag)
			case (c == '$' || c == ':' || c == '@') && !syn.DollarQuotes && i+1 < n && isIdentByte(src[i+1]):
				i = skipParam(src, i)
			case isIdentStart(c):
				j := i + 1
				for j < n && isIdentByte(src[j]) {
					j++
				}
				w := strings.ToUpper(src[i:j])
				if len(words) < 6 {
					words = append(words, w)
					block = block || syn.blockStatement(words)
				}
				if block && !afterDot(src, i) { // t.end is a name
					switch {
					case !body && !done && w == "BEGIN":
						body, stmtStart = true, true
					case body && w == "ATOMIC" && wasStart && strings.EqualFold(lastWord(src, i), "BEGIN"):
						stmtStart = true
					case body && w == "CASE":
						cases++
					case body && w == "END" && cases > 0:
						cases--
					case body && w == "END" && wasStart:
						body, done = false, true
					}
				}
				i = j
			default:
				i++
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if body {
		return nil, &Error{lineOf(src, start), "the BEGIN ... END block of this statement is not closed (a missing END?)"}
	}
	end(n)
	return out, nil
}

// blockStatement reports whether the first words of a statement start one
// whose body is a BEGIN ... END block: [EXPLAIN [QUERY PLAN]] CREATE [OR
// REPLACE] [TEMP|TEMPORARY] and one of syn.Blocks.
func (syn Syntax) blockStatement(words []string) bool {
	for len(words) > 0 && (words[0] == "EXPLAIN" || words[0] == "QUERY" || words[0] == "PLAN") {
		words = words[1:]
	}
	if len(words) < 2 || words[0] != "CREATE" {
		return false
	}
	for _, w := range words[1:] {
		switch w {
		case "OR", "REPLACE", "TEMP", "TEMPORARY":
			continue
		}
		for _, b := range syn.Blocks {
			if w == b {
				return true
			}
		}
		return false
	}
	return false
}

// lastWord returns the word that ends before src[i] (white space
// between), or "".
func lastWord(src string, i int) string {
	for i > 0 && strings.IndexByte(" \t\n\r\f\v", src[i-1]) >= 0 {
		i--
	}
	j := i
	for j > 0 && isIdentByte(src[j-1]) {
		j--
	}
	return src[j:i]
}

// afterDot reports whether the word at src[i] follows a '.' (white space
// between), which makes it a name whatever it spells.
func afterDot(src string, i int) bool {
	for i > 0 {
		i--
		switch src[i] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			continue
		}
		return src[i] == '.'
	}
	return false
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

// skipParam skips a SQLite named parameter at src[i] (:a, @a, $a, and
// the TCL forms $a::b and $a(...), whose parentheses may hold anything
// but white space), and returns the index after it.
func skipParam(src string, i int) int {
	tcl := src[i] == '$'
	i++
	for i < len(src) && isIdentByte(src[i]) {
		i++
	}
	if !tcl {
		return i
	}
	for strings.HasPrefix(src[i:], "::") && i+2 < len(src) && isIdentByte(src[i+2]) {
		i += 2
		for i < len(src) && isIdentByte(src[i]) {
			i++
		}
	}
	if i < len(src) && src[i] == '(' {
		for j := i + 1; j < len(src); j++ {
			switch src[j] {
			case ')':
				return j + 1
			case ' ', '\t', '\n', '\r', '\f', '\v':
				return i
			}
		}
	}
	return i
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
	return 0, &Error{lineOf(src, i), fmt.Sprintf("the %s opened here is not closed (a missing %c?)", what, q)}
}

// skipBlockComment skips a /* ... */ comment from src[i:i+2] == "/*",
// nested as PostgreSQL nests them if nested.
func skipBlockComment(src string, i int, nested bool) (int, error) {
	depth := 0
	for j := i; j+1 < len(src); {
		switch {
		case src[j] == '/' && src[j+1] == '*' && (nested || depth == 0):
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
	return 0, &Error{lineOf(src, i), "the comment opened here is not closed (a missing */?)"}
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
