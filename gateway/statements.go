package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Statements is an allow-list: names mapped to SQL. With one configured,
// clients send "@name" where the SQL would go and raw SQL is refused with
// 403 (on Hrana, bare BEGIN/COMMIT/ROLLBACK stay allowed, since the libSQL
// clients wrap every batch in them).
type Statements map[string]string

// ParseStatements reads an allow-list. Two forms are accepted:
//
// A JSON object of names to SQL:
//
//	{"get_user": "SELECT id, name FROM users WHERE id = $1"}
//
// or SQL with a "-- name: NAME" line before each statement (the statement
// runs to the next such line; a trailing ';' is dropped):
//
//	-- name: get_user
//	SELECT id, name FROM users WHERE id = $1;
//
//	-- name: add_user
//	INSERT INTO users (name) VALUES ($1) RETURNING id;
//
// Names are letters, digits, '_', '-' and '.'.
func ParseStatements(data []byte) (Statements, error) {
	out := Statements{}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var m map[string]string
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, fmt.Errorf("statements: %w", err)
		}
		for name, sql := range m {
			if err := out.add(name, sql); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	name := ""
	var body strings.Builder
	flush := func() error {
		if name == "" {
			return nil
		}
		return out.add(name, body.String())
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "--"); ok {
			if nm, ok := strings.CutPrefix(strings.TrimSpace(rest), "name:"); ok {
				if err := flush(); err != nil {
					return nil, err
				}
				name = strings.TrimSpace(nm)
				body.Reset()
				continue
			}
		}
		if name == "" {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
				return nil, fmt.Errorf("statements: line %d: SQL before the first \"-- name:\" line", n)
			}
			continue
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("statements: %w", err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("statements: no statement (start each with a \"-- name: NAME\" line, or write a JSON object)")
	}
	return out, nil
}

// ReadStatementsFile reads an allow-list file (see ParseStatements).
func ReadStatementsFile(path string) (Statements, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseStatements(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s Statements) add(name, sql string) error {
	if name == "" {
		return fmt.Errorf("statements: empty name")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("statements: name %q: use letters, digits, '_', '-' and '.'", name)
		}
	}
	if _, dup := s[name]; dup {
		return fmt.Errorf("statements: %q is defined twice", name)
	}
	sql = strings.TrimSpace(sql)
	for strings.HasSuffix(sql, ";") {
		sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
	}
	if sql == "" {
		return fmt.Errorf("statements: %q has no SQL", name)
	}
	s[name] = sql
	return nil
}

// resolve returns the SQL that a client's text names. ok is false when
// the text is not "@name" of a known statement; msg then says why.
func (s Statements) resolve(text string) (sql string, msg string, ok bool) {
	name, isRef := strings.CutPrefix(strings.TrimSpace(text), "@")
	if !isRef {
		return "", "raw SQL is not allowed: this gateway runs only named statements (send \"@name\")", false
	}
	sql, found := s[name]
	if !found {
		return "", "unknown statement \"@" + name + "\"", false
	}
	return sql, "", true
}
