package main

import (
	"fmt"
	"strconv"
	"strings"
)

// wranglerConfig is what forge doctor reads of a wrangler.toml: the
// top-level keys, the [tables] and the [[arrays of tables]] wrangler uses
// for bindings. Values are kept as strings (a string's text, or the raw
// text of a number, a boolean or an array).
type wranglerConfig struct {
	top    map[string]string
	tables map[string]map[string]string   // [vars] -> key -> value
	arrays map[string][]map[string]string // [[d1_databases]] -> entries
}

// tomlError is a line of a wrangler.toml that forge's reader cannot read.
type tomlError struct {
	line int
	msg  string
}

func (e *tomlError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// parseWrangler reads the subset of TOML a wrangler.toml is written in:
// comments, key = value (basic and literal strings, numbers, booleans,
// arrays, also over several lines, and inline tables, kept as text),
// [table] and [[array]] headers (dotted names kept whole: [env.staging]).
// Anything else is a *tomlError naming the line.
func parseWrangler(src string) (*wranglerConfig, error) {
	c := &wranglerConfig{top: map[string]string{}, tables: map[string]map[string]string{}, arrays: map[string][]map[string]string{}}
	cur := c.top
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimSpace(stripComment(lines[i]))
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "[["):
			if !strings.HasSuffix(line, "]]") {
				return nil, &tomlError{n, "an array-of-tables header must end with ]]"}
			}
			name := strings.TrimSpace(line[2 : len(line)-2])
			cur = map[string]string{}
			c.arrays[name] = append(c.arrays[name], cur)
			continue
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") {
				return nil, &tomlError{n, "a table header must end with ]"}
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			if c.tables[name] == nil {
				c.tables[name] = map[string]string{}
			}
			cur = c.tables[name]
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			return nil, &tomlError{n, "want key = value"}
		}
		key = unquoteKey(strings.TrimSpace(key))
		raw = strings.TrimSpace(raw)
		// An array or inline table may continue over the following lines.
		for open := strings.Count(raw, "[") + strings.Count(raw, "{") - strings.Count(raw, "]") - strings.Count(raw, "}"); open > 0; {
			i++
			if i >= len(lines) {
				return nil, &tomlError{n, "an array or inline table is not closed"}
			}
			more := strings.TrimSpace(stripComment(lines[i]))
			raw += " " + more
			open += strings.Count(more, "[") + strings.Count(more, "{") - strings.Count(more, "]") - strings.Count(more, "}")
		}
		v, err := tomlValue(raw)
		if err != nil {
			return nil, &tomlError{n, key + ": " + err.Error()}
		}
		cur[key] = v
	}
	return c, nil
}

// stripComment removes a # comment that is outside quotes.
func stripComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quote != 0:
			if ch == '\\' && quote == '"' {
				i++
			} else if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '#':
			return line[:i]
		}
	}
	return line
}

func unquoteKey(k string) string {
	if len(k) >= 2 && (k[0] == '"' || k[0] == '\'') && k[len(k)-1] == k[0] {
		return k[1 : len(k)-1]
	}
	return k
}

// tomlValue returns a string's text, or any other value's raw text.
func tomlValue(raw string) (string, error) {
	switch {
	case raw == "":
		return "", fmt.Errorf("no value")
	case strings.HasPrefix(raw, `"""`), strings.HasPrefix(raw, "'''"):
		return "", fmt.Errorf("multi-line strings are not read by forge doctor")
	case raw[0] == '"':
		s, err := strconv.Unquote(raw)
		if err != nil {
			return "", fmt.Errorf("a string that is not closed or has a bad escape")
		}
		return s, nil
	case raw[0] == '\'':
		if len(raw) < 2 || raw[len(raw)-1] != '\'' {
			return "", fmt.Errorf("a literal string that is not closed")
		}
		return raw[1 : len(raw)-1], nil
	}
	return raw, nil
}

// bindings returns the binding names wrangler.toml declares, with their
// kind: the array-of-tables name (d1_databases, kv_namespaces,
// hyperdrive, r2_buckets, services...), or "vars".
func (c *wranglerConfig) bindings() map[string]string {
	m := map[string]string{}
	for kind, entries := range c.arrays {
		for _, e := range entries {
			if b := e["binding"]; b != "" {
				m[b] = kind
			}
		}
	}
	for k := range c.tables["vars"] {
		m[k] = "vars"
	}
	return m
}
