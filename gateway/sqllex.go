package gateway

import (
	"strconv"
	"strings"

	"github.com/forge-orm/forge/dialect/sqlsplit"
	"github.com/forge-orm/forge/wire/hrana"
)

// This file reads SQLite SQL as SQLite's tokenizer does, for two things
// the Hrana handler needs without preparing a statement: the parameters a
// statement declares (so that positional arguments bind to named
// parameters and describe lists them), and the leading keywords. Where a
// statement ends (so that an execute runs exactly one, and a sequence runs
// its statements one at a time) is splitSQLite's, on sqlsplit. It never decides whether SQL is allowed
// to run: the database does that (see the roles).

// sqlToken is one token: its kind and its text.
type sqlToken struct {
	kind int
	text string
	end  int // the offset after the token
}

const (
	tokWord  = iota // a keyword or a bare identifier
	tokParam        // ?, ?NNN, :name, @name, $name
	tokSemi         // ;
	tokOther        // anything else (strings, quoted identifiers, numbers, operators)
)

// sqliteTokens calls fn for each token of sql that is not white space or a
// comment, and stops when fn returns false.
func sqliteTokens(sql string, fn func(sqlToken) bool) {
	i := 0
	for i < len(sql) {
		c := sql[i]
		start := i
		var t sqlToken
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				return
			}
			i += j + 1
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return
			}
			i += j + 4
			continue
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i, c)
			t = sqlToken{kind: tokOther, text: sql[start:i]}
		case c == '[':
			j := strings.IndexByte(sql[i:], ']')
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 1
			}
			t = sqlToken{kind: tokOther, text: sql[start:i]}
		case c == ';':
			i++
			t = sqlToken{kind: tokSemi, text: ";"}
		case c == '?':
			i++
			for i < len(sql) && sql[i] >= '0' && sql[i] <= '9' {
				i++
			}
			t = sqlToken{kind: tokParam, text: sql[start:i]}
		case (c == ':' || c == '@' || c == '$') && i+1 < len(sql) && isIdentChar(sql[i+1]):
			i++
			for i < len(sql) && isIdentChar(sql[i]) {
				i++
			}
			if c == '$' { // TCL-style names: $a::b(c)
				for strings.HasPrefix(sql[i:], "::") && i+2 < len(sql) && isIdentChar(sql[i+2]) {
					i += 2
					for i < len(sql) && isIdentChar(sql[i]) {
						i++
					}
				}
				if i < len(sql) && sql[i] == '(' {
					if j := strings.IndexByte(sql[i:], ')'); j >= 0 {
						i += j + 1
					}
				}
			}
			t = sqlToken{kind: tokParam, text: sql[start:i]}
		case isIdentStart(c):
			for i < len(sql) && isIdentChar(sql[i]) {
				i++
			}
			t = sqlToken{kind: tokWord, text: sql[start:i]}
		case c >= '0' && c <= '9' || c == '.':
			i++
			for i < len(sql) && (isIdentChar(sql[i]) || sql[i] == '.' ||
				(sql[i] == '+' || sql[i] == '-') && (sql[i-1] == 'e' || sql[i-1] == 'E')) {
				i++
			}
			t = sqlToken{kind: tokOther, text: sql[start:i]}
		default:
			i++
			t = sqlToken{kind: tokOther, text: sql[start:i]}
		}
		t.end = i
		if !fn(t) {
			return
		}
	}
}

// skipQuoted returns the index after the quoted token that starts at i
// (a doubled quote is an escaped one); an unterminated one runs to the end.
func skipQuoted(sql string, i int, q byte) int {
	i++
	for i < len(sql) {
		if sql[i] == q {
			if i+1 < len(sql) && sql[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return i
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// splitSQLite splits sql into its statements as SQLite's parser does
// (sqlsplit.SQLite); an unterminated string, identifier, comment or
// trigger body is the SQL_PARSE_ERROR sqld gives for it.
func splitSQLite(sql string) ([]string, *hrana.Error) {
	parts, err := sqlsplit.Split(sql, sqlsplit.SQLite)
	if err != nil {
		return nil, &hrana.Error{Message: "SQL string could not be parsed: " + err.Error(), Code: "SQL_PARSE_ERROR"}
	}
	return parts, nil
}

// sqliteParams returns the parameters of one statement by index, as
// sqlite3_bind_parameter_name would: names[i] is parameter i+1's name
// with its prefix ("?NNN", ":a", "@a", "$a"), or "" for a plain "?" (and
// for an index no parameter uses). It numbers them as SQLite does: "?"
// takes the next index, "?NNN" index NNN, and a name its first index.
func sqliteParams(sql string) ([]string, error) {
	var names []string
	index := map[string]int{}
	var err error
	sqliteTokens(sql, func(t sqlToken) bool {
		if t.kind != tokParam {
			return true
		}
		switch {
		case t.text == "?":
			names = append(names, "")
		case t.text[0] == '?':
			n, perr := strconv.Atoi(t.text[1:])
			if perr != nil || n < 1 || n > maxSQLiteParams {
				err = &stmtError{code: "SQL_INPUT_ERROR", msg: "parameter " + t.text + " is out of range (1.." + strconv.Itoa(maxSQLiteParams) + ")"}
				return false
			}
			for len(names) < n {
				names = append(names, "")
			}
			// A number keeps the name it was first given (SELECT :b, ?1:
			// parameter 1 is :b), as sqlite3_bind_parameter_name reports.
			if _, seen := index[t.text]; !seen && names[n-1] == "" {
				names[n-1] = t.text
			}
			index[t.text] = n
		default:
			if _, ok := index[t.text]; !ok {
				names = append(names, t.text)
				index[t.text] = len(names)
			}
		}
		if len(names) > maxSQLiteParams {
			err = &stmtError{code: "SQL_INPUT_ERROR", msg: "too many SQL variables"}
			return false
		}
		return true
	})
	return names, err
}

// maxSQLiteParams is SQLITE_MAX_VARIABLE_NUMBER's default.
const maxSQLiteParams = 32766

// sqliteKeywords returns up to n leading words of one statement,
// upper-cased ("" for a token that is not a word).
func sqliteKeywords(sql string, n int) []string {
	var out []string
	sqliteTokens(sql, func(t sqlToken) bool {
		if t.kind == tokWord {
			out = append(out, strings.ToUpper(t.text))
		} else {
			out = append(out, "")
		}
		return len(out) < n
	})
	return out
}

// txControl classifies a statement that begins, ends or names a
// transaction: "begin", "begin-readonly" (libSQL's BEGIN TRANSACTION
// READONLY), "end" (COMMIT, END, ROLLBACK without TO), or "" for any
// other statement. Only the bare forms count, with no other tokens.
func txControl(sql string) string {
	w := sqliteKeywords(sql, 5)
	if len(w) == 0 || len(w) > 4 {
		return ""
	}
	for _, k := range w {
		if k == "" { // a token that is not a word: not a bare statement
			return ""
		}
	}
	switch w[0] {
	case "COMMIT", "END", "ROLLBACK":
		if len(w) == 1 || len(w) == 2 && w[1] == "TRANSACTION" {
			return "end"
		}
	case "BEGIN":
		rest := w[1:]
		if len(rest) > 0 && (rest[0] == "DEFERRED" || rest[0] == "IMMEDIATE" || rest[0] == "EXCLUSIVE") {
			rest = rest[1:]
		}
		switch {
		case len(rest) == 0, len(rest) == 1 && rest[0] == "TRANSACTION":
			return "begin"
		case len(rest) == 2 && rest[0] == "TRANSACTION" && rest[1] == "READONLY" && len(w) == 3:
			return "begin-readonly"
		}
	}
	return ""
}
