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
