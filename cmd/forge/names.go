package main

import (
	"go/token"
	"strconv"
	"strings"
	"unicode"
)

// initialisms are written in capitals in Go names (user_id → UserID).
var initialisms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "CPU": true, "CSS": true, "DNS": true, "EOF": true,
	"GUID": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true, "IP": true, "JSON": true,
	"LHS": true, "QPS": true, "RAM": true, "RHS": true, "RPC": true, "SLA": true, "SMTP": true,
	"SQL": true, "SSH": true, "TCP": true, "TLS": true, "TTL": true, "UDP": true, "UI": true,
	"UID": true, "UUID": true, "URI": true, "URL": true, "UTF8": true, "VM": true, "XML": true,
	"XMPP": true, "XSRF": true, "XSS": true, "SKU": true, "OS": true, "DB": true,
}

// goName turns a database name into an exported Go name: user_id →
// UserID, created_at → CreatedAt, http_server → HTTPServer. It returns ""
// when nothing of s can make a name.
func goName(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var b strings.Builder
	for _, p := range parts {
		if u := strings.ToUpper(p); initialisms[u] {
			b.WriteString(u)
			continue
		}
		rs := []rune(p)
		rs[0] = unicode.ToUpper(rs[0])
		b.WriteString(string(rs))
	}
	name := b.String()
	if name == "" {
		return ""
	}
	if r := []rune(name)[0]; !unicode.IsUpper(r) {
		name = "X" + name // starts with a digit, or a letter without case
	}
	if !token.IsIdentifier(name) {
		return ""
	}
	return name
}

// snakeCase is forge's default column name for a Go field name (a copy of
// the unexported function in forge's model.go; a test keeps them equal on
// the names this package writes).
func snakeCase(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	rs := []rune(s)
	for i, r := range rs {
		if r == '.' {
			b.WriteByte('_')
			continue
		}
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 && rs[i-1] != '.' {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// singular makes a plural table name's Go type name singular: Users →
// User, Categories → Category, Addresses → Address, Status → Status.
func singular(s string) string {
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(lower, "sses"), strings.HasSuffix(lower, "xes"), strings.HasSuffix(lower, "ches"), strings.HasSuffix(lower, "shes"), strings.HasSuffix(lower, "zes"):
		return s[:len(s)-2]
	case strings.HasSuffix(lower, "ss"), strings.HasSuffix(lower, "us"), strings.HasSuffix(lower, "is"), strings.HasSuffix(lower, "news"):
		return s
	case strings.HasSuffix(lower, "s") && len(s) > 1:
		return s[:len(s)-1]
	}
	return s
}

// namer hands out unique identifiers.
type namer map[string]bool

func (n namer) take(base string) string {
	name := base
	for i := 2; n[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	n[name] = true
	return name
}
