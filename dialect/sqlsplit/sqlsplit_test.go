package sqlsplit_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/forge-orm/forge/dialect/sqlsplit"
	"github.com/forge-orm/forge/internal/testsvc"
)

// TestSplitSQLite: the cases of the gateway's Hrana handler.
func TestSplitSQLite(t *testing.T) {
	for sql, want := range map[string][]string{
		"":                                     nil,
		" ; ;\n-- c\n":                         nil,
		"SELECT 1":                             {"SELECT 1"},
		"SELECT 1;":                            {"SELECT 1"},
		"SELECT 1; SELECT 2":                   {"SELECT 1", "SELECT 2"},
		"SELECT ';'; SELECT \";\"":             {"SELECT ';'", `SELECT ";"`},
		"SELECT 'it''s;'; SELECT [a;]":         {"SELECT 'it''s;'", "SELECT [a;]"},
		"/* ; */ SELECT 1; -- ;\nSELECT `;`":   {"SELECT 1", "SELECT `;`"},
		"/* /* */ SELECT 1; SELECT 2":          {"SELECT 1", "SELECT 2"}, // no nesting
		`SELECT E'\'; SELECT 2`:                {`SELECT E'\'`, "SELECT 2"},
		"SELECT $a, $a::b(c;d), :x; SELECT $$": {"SELECT $a, $a::b(c;d), :x", "SELECT $$"},
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM u; END; SELECT 1": {
			"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM u; END", "SELECT 1"},
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN x THEN 1 END; END; SELECT 1": {
			"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN x THEN 1 END; END", "SELECT 1"},
		"create temp trigger x before delete on t begin select 1; end;": {"create temp trigger x before delete on t begin select 1; end"},
		"CREATE FUNCTION f() BEGIN; SELECT 1; END":                      {"CREATE FUNCTION f() BEGIN", "SELECT 1", "END"},
		// begin and end are names inside a trigger body, except the END
		// after a ';': no statement hides in a trigger.
		"CREATE TRIGGER a AFTER INSERT ON t BEGIN SELECT begin FROM x; END; DROP TABLE t; END;": {
			"CREATE TRIGGER a AFTER INSERT ON t BEGIN SELECT begin FROM x; END", "DROP TABLE t", "END"},
		"CREATE TRIGGER a AFTER INSERT ON t BEGIN SELECT end, x.end FROM x; END; SELECT 1": {
			"CREATE TRIGGER a AFTER INSERT ON t BEGIN SELECT end, x.end FROM x; END", "SELECT 1"},
		"CREATE TRIGGER begin AFTER INSERT ON t BEGIN SELECT 1; END; SELECT 2": {"CREATE TRIGGER begin AFTER INSERT ON t BEGIN SELECT 1; END", "SELECT 2"},
	} {
		got, err := sqlsplit.Split(sql, sqlsplit.SQLite)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Split(%q) = %q, %v, want %q", sql, got, err, want)
		}
	}
	for _, bad := range []string{"SELECT 'unterminated;", "SELECT [a", "SELECT 1 /* x", "CREATE TRIGGER t AFTER INSERT ON u BEGIN SELECT 1;"} {
		var e *sqlsplit.Error
		if _, err := sqlsplit.Split(bad, sqlsplit.SQLite); err == nil || !errorsAs(err, &e) || e.Line != 1 {
			t.Errorf("Split(%q): %v, want an *Error on line 1", bad, err)
		}
	}
}

func errorsAs(err error, e **sqlsplit.Error) bool {
	x, ok := err.(*sqlsplit.Error)
	*e = x
	return ok
}

// sqliteScripts reads testdata/sqlite.json: scripts that split into
// statements that are all valid and run in order on one fresh database
// (ok), and scripts that sqld refuses as incomplete (refused, and
// unterminatedComments, which SQLite itself accepts).
func sqliteScripts(t *testing.T) (ok, refused []string) {
	b, err := os.ReadFile(filepath.Join("testdata", "sqlite.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ OK, Refused, UnterminatedComments []string }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s.OK, append(s.Refused, s.UnterminatedComments...)
}

// TestSplitAgreesWithSQLD splits sqliteScripts and sends each statement to
// the real sqld (libSQL, SQLite's parser) as a Hrana execute, which sqld
// refuses for none or several statements, or an incomplete one: every
// statement it accepts is exactly one of SQLite's, so the split agrees.
// The refused scripts are SQL_PARSE_ERROR to sqld's sequence (which parses
// the whole script before it runs any) and an *Error to Split.
func TestSplitAgreesWithSQLD(t *testing.T) {
	url := testsvc.SQLD(t)
	scripts, refused := sqliteScripts(t)
	var reqs []map[string]any
	n := 0
	for _, script := range scripts {
		stmts, err := sqlsplit.Split(script, sqlsplit.SQLite)
		if err != nil {
			t.Fatalf("Split(%q): %v", script, err)
		}
		for _, s := range stmts {
			reqs = append(reqs, map[string]any{"type": "execute", "stmt": map[string]any{"sql": s}})
		}
		n += len(stmts)
	}
	first := len(reqs)
	for _, bad := range refused {
		if stmts, err := sqlsplit.Split(bad, sqlsplit.SQLite); err == nil {
			t.Errorf("Split(%q) = %q, want an error", bad, stmts)
		}
		reqs = append(reqs, map[string]any{"type": "sequence", "sql": bad})
	}
	last := len(reqs)
	// And what sqld's own sequence does with a whole script.
	reqs = append(reqs, map[string]any{"type": "sequence", "sql": "CREATE TABLE w(a); CREATE TRIGGER tw AFTER INSERT ON w BEGIN UPDATE w SET a = CASE WHEN 1 THEN 1 END; END; INSERT INTO w VALUES (0)"},
		map[string]any{"type": "execute", "stmt": map[string]any{"sql": "SELECT count(*) FROM sqlite_schema WHERE name IN ('w', 'tw')"}},
		map[string]any{"type": "close"})
	body, _ := json.Marshal(map[string]any{"baton": nil, "requests": reqs})
	resp, err := http.Post(url+"/v2/pipeline", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Type  string `json:"type"`
			Error *struct {
				Message string `json:"message"`
				Code    string `json:"code"`
			} `json:"error"`
			Response struct {
				Result struct {
					Rows [][]struct {
						Value any `json:"value"`
					} `json:"rows"`
				} `json:"result"`
			} `json:"response"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Results) != len(reqs) {
		t.Fatalf("sqld answered %d results for %d requests (%v)", len(out.Results), len(reqs), err)
	}
	for i, r := range out.Results[:len(reqs)-1] {
		if i >= first && i < last {
			if r.Type != "error" || r.Error == nil || r.Error.Code != "SQL_PARSE_ERROR" {
				t.Errorf("sqld answered %q with %s %+v, want SQL_PARSE_ERROR", refused[i-first], r.Type, r.Error)
			}
			continue
		}
		if r.Type != "ok" {
			sql, _ := json.Marshal(reqs[i])
			t.Errorf("sqld refused %s: %+v", sql, r.Error)
		}
	}
	if rows := out.Results[len(reqs)-2].Response.Result.Rows; len(rows) != 1 || len(rows[0]) != 1 || rows[0][0].Value != "2" {
		t.Errorf("after the sequence, sqld has %v of the table and trigger, want 2", rows)
	}
	t.Logf("%d statements of %d scripts, each one statement to sqld; %d refused", n, len(scripts), len(refused))
}

// TestSplitPortable: the cases of the forge command's migration files.
func TestSplitPortable(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{"", nil},
		{" ;; -- only a comment\n/* and ; this */ ;", nil},
		{"SELECT 1; SELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"-- lead; comment\nSELECT 1;\n", []string{"SELECT 1"}},
		{"INSERT INTO t VALUES ('a;b', 'it''s;');", []string{"INSERT INTO t VALUES ('a;b', 'it''s;')"}},
		{`SELECT E'it\'s; here'; SELECT 2`, []string{`SELECT E'it\'s; here'`, "SELECT 2"}},
		{`SELECT 'a\'; SELECT 2`, []string{`SELECT 'a\'`, "SELECT 2"}}, // standard strings: no backslash escapes
		{`CREATE TABLE "a;b" ("c;d" INT); SELECT 1`, []string{`CREATE TABLE "a;b" ("c;d" INT)`, "SELECT 1"}},
		{"SELECT `a;b` FROM t; SELECT 2", []string{"SELECT `a;b` FROM t", "SELECT 2"}},
		{"SELECT 1 /* a; /* nested; */ still; */ + 1; SELECT 2", []string{"SELECT 1 /* a; /* nested; */ still; */ + 1", "SELECT 2"}},
		{"SELECT 1 -- trailing; comment\n, 2; SELECT 3", []string{"SELECT 1 -- trailing; comment\n, 2", "SELECT 3"}},
		{"DO $$ BEGIN PERFORM 1; END $$; SELECT 2", []string{"DO $$ BEGIN PERFORM 1; END $$", "SELECT 2"}},
		{"CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $$ not the end $$; $fn$ LANGUAGE sql; SELECT 2",
			[]string{"CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $$ not the end $$; $fn$ LANGUAGE sql", "SELECT 2"}},
		{"SELECT $1; SELECT a$b$c FROM t; SELECT 3", []string{"SELECT $1", "SELECT a$b$c FROM t", "SELECT 3"}},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (CASE WHEN 1 THEN 'x' END); UPDATE u SET a = 1; END; SELECT 2",
			[]string{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (CASE WHEN 1 THEN 'x' END); UPDATE u SET a = 1; END", "SELECT 2"}},
		{"create temp trigger tr after delete on t when old.a = case when 1 then 2 end begin delete from u; end; select 2",
			[]string{"create temp trigger tr after delete on t when old.a = case when 1 then 2 end begin delete from u; end", "select 2"}},
		{"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3",
			[]string{"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", "SELECT 3"}},
		{"SELECT CASE WHEN 1 THEN 2 END; SELECT 3", []string{"SELECT CASE WHEN 1 THEN 2 END", "SELECT 3"}},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC END; SELECT 1",
			[]string{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC END", "SELECT 1"}},
		{"CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (CASE WHEN true THEN 1 END); END; SELECT 1",
			[]string{"CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (CASE WHEN true THEN 1 END); END", "SELECT 1"}},
	} {
		got, err := sqlsplit.Split(tc.src, sqlsplit.Portable)
		if err != nil {
			t.Errorf("Split(%q): %v", tc.src, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(%q)\n got %q\nwant %q", tc.src, got, tc.want)
		}
	}
	for _, bad := range []string{"SELECT 'open", `SELECT "open`, "SELECT 1 /* open", "DO $$ BEGIN", "SELECT 1;\n\nSELECT $x$ open", "CREATE TRIGGER t BEGIN SELECT 1;"} {
		if _, err := sqlsplit.Split(bad, sqlsplit.Portable); err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("Split(%q): want an error naming the line, got %v", bad, err)
		}
	}
}

// FuzzSplit: with each Syntax, splitting never panics, never returns an
// empty statement, and a script made of statements it returned splits back
// into the same. The seeds are those of the forge command's FuzzSplitSQL
// and the gateway's splitSQLite cases.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2", "INSERT INTO t VALUES ('a;b')", "DO $$ x; $$;", "/* a /* b */ */;",
		"CREATE TRIGGER t BEGIN SELECT CASE WHEN 1 THEN 2 END; END;", `E'\'';`, "$a$ $b$ $a$;", "`x;`;",
		"SELECT [a;]; SELECT $a(b;c), :x;", "/* ; */ SELECT 1; -- ;\nSELECT `;`", "create temp trigger x before delete on t begin select 1; end;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, syn := range []sqlsplit.Syntax{sqlsplit.SQLite, sqlsplit.PostgreSQL, sqlsplit.Portable} {
			checkResplit(t, src, syn)
		}
	})
}

func checkResplit(t *testing.T, src string, syn sqlsplit.Syntax) {
	stmts, err := sqlsplit.Split(src, syn)
	if err != nil {
		return
	}
	for _, s := range stmts {
		if strings.TrimSpace(s) == "" {
			t.Fatalf("empty statement from %q", src)
		}
	}
	again, err := sqlsplit.Split(strings.Join(stmts, ";\n")+";", syn)
	if err != nil {
		t.Fatalf("re-splitting %q: %v", stmts, err)
	}
	if !reflect.DeepEqual(again, stmts) && !anyTrailingComment(stmts) {
		t.Fatalf("re-splitting %q gave %q", stmts, again)
	}
}

// anyTrailingComment: a statement ending in a -- comment swallows the
// joining semicolon, a known property of splitting by text.
func anyTrailingComment(stmts []string) bool {
	for _, s := range stmts {
		lines := strings.Split(s, "\n")
		if strings.Contains(lines[len(lines)-1], "--") {
			return true
		}
	}
	return false
}
