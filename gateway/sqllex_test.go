package gateway

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestSplitSQLite: the gateway splits as sqlsplit.SQLite does (its cases
// are in dialect/sqlsplit), and a script that does not split is sqld's
// SQL_PARSE_ERROR.
func TestSplitSQLite(t *testing.T) {
	sql := "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN x THEN 1 END; END; SELECT ';'"
	if got, e := splitSQLite(sql); e != nil || !slices.Equal(got, []string{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN x THEN 1 END; END", "SELECT ';'"}) {
		t.Errorf("splitSQLite(%q) = %q, %v", sql, got, e)
	}
	for _, bad := range []string{"SELECT 'unterminated;", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1;"} {
		if got, e := splitSQLite(bad); e == nil || e.Code != "SQL_PARSE_ERROR" || got != nil {
			t.Errorf("splitSQLite(%q) = %q, %v; want SQL_PARSE_ERROR", bad, got, e)
		}
	}
}

func TestSQLiteParams(t *testing.T) {
	for sql, want := range map[string][]string{
		"SELECT 1":                          nil,
		"SELECT ?, ?":                       {"", ""},
		"SELECT ?3, ?":                      {"", "", "?3", ""},
		"SELECT :a, @b, $c, :a, ?":          {":a", "@b", "$c", ""},
		"SELECT ?2, ?1, ?2":                 {"?1", "?2"},
		"SELECT :b, ?1, ?, ?2":              {":b", "?2"},
		"SELECT ?, ?1":                      {"?1"},
		"SELECT ':a', \"?\", [?], -- ?\n ?": {""},
		"SELECT $a::b(c), :x":               {"$a::b(c)", ":x"},
		"SELECT x'00', 1.5e-3, ?":           {""},
	} {
		got, err := sqliteParams(sql)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("sqliteParams(%q) = %q, %v, want %q", sql, got, err, want)
		}
	}
	for _, bad := range []string{"SELECT ?0", "SELECT ?99999999", "SELECT ?32767"} {
		if _, err := sqliteParams(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestTxControl(t *testing.T) {
	for sql, want := range map[string]string{
		"BEGIN": "begin", "begin immediate": "begin", "BEGIN DEFERRED TRANSACTION": "begin", "BEGIN EXCLUSIVE": "begin",
		"BEGIN TRANSACTION READONLY": "begin-readonly", "COMMIT": "end", "END TRANSACTION": "end", "ROLLBACK": "end",
		"ROLLBACK TO s": "", "BEGIN; DELETE FROM t": "", "COMMIT -- x": "end", "SELECT 1": "", "BEGIN TRANSACTION x": "",
		"BEGIN 'x'": "", "": "", "BEGIN IMMEDIATE TRANSACTION READONLY": "",
	} {
		if got := txControl(sql); got != want {
			t.Errorf("txControl(%q) = %q, want %q", sql, got, want)
		}
	}
}

func TestParseStatements(t *testing.T) {
	s, err := ParseStatements([]byte("-- a comment\n\n-- name: one\nSELECT 1;\n-- name: two\nSELECT\n  2 -- inline\n;;\n"))
	if err != nil || len(s) != 2 || s["one"] != "SELECT 1" || s["two"] != "SELECT\n  2 -- inline" {
		t.Errorf("%q %v", s, err)
	}
	for _, bad := range []string{"SELECT 1", "-- name: a\nSELECT 1\n-- name: a\nSELECT 2", "-- name: b c\nSELECT 1", "-- name: e\n", `{"a": 1}`, "", `{"x y": "SELECT 1"}`} {
		if _, err := ParseStatements([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if sql, _, ok := s.resolve(" @two "); !ok || !strings.HasPrefix(sql, "SELECT") {
		t.Error("resolve")
	}
}

func TestParseTokens(t *testing.T) {
	toks, err := ReadTokens(bytes.NewBufferString("# comment\napp:se:cr:et:write\n\n  ro:x:read  \n"))
	if err != nil || len(toks) != 2 || toks[0].Secret != "se:cr:et" || toks[0].Role != RoleWrite || toks[1].Name != "ro" || toks[1].Role != RoleRead {
		t.Errorf("%+v %v", toks, err)
	}
	for _, bad := range []string{"a:b", ":b:read", "a::read", "a:b:root", "a b:c:read"} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := newTokenSet([]Token{{Name: "a", Secret: "sha256:zz", Role: RoleRead}}, 1); err == nil {
		t.Error("a bad sha256 secret")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "512KiB": 512 << 10, "10MiB": 10 << 20, "2mb": 2 << 20, "1 GiB": 1 << 30, "64k": 64 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "1TB", "-1", "99999999999999999999GiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q): no error", bad)
		}
	}
}
