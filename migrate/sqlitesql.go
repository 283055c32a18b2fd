package migrate

import (
	"strconv"
	"strings"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/schema"
)

// This file reads what SQLite's catalog does not report in columns: the
// CHECK constraints, generated columns, AUTOINCREMENT and collations of a
// CREATE TABLE statement. It tokenizes the statement (quotes, comments and
// parentheses understood) rather than matching text, so that a keyword in
// a string or a quoted name is not mistaken for a clause.

type sqlTok struct {
	kind       byte // 'w' word, 'q' quoted identifier, 's' string, or the punctuation character
	text       string
	start, end int
}

// sqlTokens splits SQL text into tokens, skipping blanks and comments.
func sqlTokens(sql string) []sqlTok {
	var out []sqlTok
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 4
			}
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := i + 1
			for j < len(sql) {
				if sql[j] == end {
					if end != ']' && j+1 < len(sql) && sql[j+1] == end {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j < len(sql) {
				j++
			}
			kind := byte('q')
			if c == '\'' {
				kind = 's'
			}
			out = append(out, sqlTok{kind: kind, text: sql[i:j], start: i, end: j})
			i = j
		case isWordByte(c):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			out = append(out, sqlTok{kind: 'w', text: sql[i:j], start: i, end: j})
			i = j
		default:
			out = append(out, sqlTok{kind: c, text: sql[i : i+1], start: i, end: i + 1})
			i++
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// name returns an identifier token's name, unquoted.
func (t sqlTok) name() string {
	switch t.kind {
	case 'w':
		return t.text
	case 'q', 's':
		if len(t.text) < 2 {
			return t.text
		}
		q := t.text[0]
		inner := t.text[1 : len(t.text)-1]
		if q == '[' {
			return inner
		}
		return strings.ReplaceAll(inner, string([]byte{q, q}), string(q))
	}
	return t.text
}

func (t sqlTok) is(word string) bool { return t.kind == 'w' && strings.EqualFold(t.text, word) }

// closeParen returns the index of the ')' matching the '(' at toks[i].
func closeParen(toks []sqlTok, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j].kind {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// mentions reports whether SQL text uses name as an identifier (any case,
// quoted or not).
func mentions(sql, name string) bool {
	for _, t := range sqlTokens(sql) {
		if (t.kind == 'w' || t.kind == 'q') && strings.EqualFold(t.name(), name) {
			return true
		}
	}
	return false
}

// sqliteColumnDef is what a column's definition says beyond the catalog.
type sqliteColumnDef struct {
	generated string
	stored    bool
	noReuse   bool
	collate   string
}

// parseSQLiteTable reads the CHECK constraints and column details of a
// CREATE TABLE statement. Unnamed CHECK constraints get derived names
// (table_column_check for one in a column's definition, table_check for
// one of the table; a number added on repeats), as PostgreSQL names them.
func parseSQLiteTable(table, sql string) ([]*schema.Check, map[string]*sqliteColumnDef) {
	toks := sqlTokens(sql)
	open := -1
	for i, t := range toks {
		if t.kind == '(' {
			open = i
			break
		}
	}
	cols := map[string]*sqliteColumnDef{}
	if open < 0 {
		return nil, cols
	}
	end := closeParen(toks, open)
	if end < 0 {
		return nil, cols
	}
	// Top-level items of the definition, split at commas.
	var items [][]sqlTok
	depth, from := 0, open+1
	for j := open + 1; j <= end; j++ {
		switch toks[j].kind {
		case '(':
			depth++
		case ')':
			if j == end {
				items = append(items, toks[from:j])
			}
			depth--
		case ',':
			if depth == 0 {
				items = append(items, toks[from:j])
				from = j + 1
			}
		}
	}
	var checks []*schema.Check
	used := map[string]int{}
	for _, it := range items {
		if len(it) == 0 {
			continue
		}
		column := ""
		var def *sqliteColumnDef
		switch {
		case it[0].is("CONSTRAINT"), it[0].is("PRIMARY"), it[0].is("UNIQUE"), it[0].is("CHECK"), it[0].is("FOREIGN"):
		default:
			column = it[0].name()
			def = &sqliteColumnDef{}
			cols[column] = def
		}
		pending := ""
		for j := 0; j < len(it); j++ {
			t := it[j]
			switch {
			case t.kind == '(':
				if k := closeParen(it, j); k > j {
					j = k
				}
			case t.is("CONSTRAINT") && j+1 < len(it):
				pending = it[j+1].name()
				j++
			case t.is("CHECK") && j+1 < len(it) && it[j+1].kind == '(':
				k := closeParen(it, j+1)
				if k < 0 {
					continue
				}
				name := pending
				if name == "" {
					var on []string
					if column != "" {
						on = []string{column}
					}
					base := dialect.ObjectName(table, on, "check")
					name = base
					if n := used[base]; n > 0 {
						name = dialect.FitName(base+strconv.Itoa(n), dialect.PortableIdentLen)
					}
					used[base]++
				}
				pending = ""
				checks = append(checks, &schema.Check{Name: name, Expr: strings.TrimSpace(sql[it[j+1].end:it[k].start]), Column: column})
				j = k
			case def != nil && t.is("AS") && j+1 < len(it) && it[j+1].kind == '(':
				k := closeParen(it, j+1)
				if k < 0 {
					continue
				}
				def.generated = strings.TrimSpace(sql[it[j+1].end:it[k].start])
				if k+1 < len(it) && it[k+1].is("STORED") {
					def.stored = true
				}
				j = k
			case def != nil && t.is("AUTOINCREMENT"):
				def.noReuse = true
			case def != nil && t.is("COLLATE") && j+1 < len(it):
				def.collate = it[j+1].name()
				j++
			case t.is("PRIMARY"), t.is("UNIQUE"), t.is("NOT"), t.is("DEFAULT"), t.is("REFERENCES"), t.is("FOREIGN"), t.is("GENERATED"):
				pending = ""
			}
		}
	}
	return checks, cols
}
