//go:build !(js && wasm)

package sqlite_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/sqlite/lib"

	"github.com/forge-orm/forge/dialect/sqlsplit"
)

// TestSplitAgreesWithSQLite checks dialect/sqlsplit's SQLite rules against
// SQLite's own parser: it runs each script of
// dialect/sqlsplit/testdata/sqlite.json through sqlite3_prepare_v2, one
// statement at a time (the tail is the rest), on one fresh database, and
// compares the statements with sqlsplit.Split's. The refused scripts must
// fail to prepare (an incomplete statement) and to split. (The same
// scripts go to the real sqld in dialect/sqlsplit's TestSplitAgreesWithSQLD.)
func TestSplitAgreesWithSQLite(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "dialect", "sqlsplit", "testdata", "sqlite.json"))
	if err != nil {
		t.Fatal(err)
	}
	var scripts struct{ OK, Refused, UnterminatedComments []string }
	if err := json.Unmarshal(b, &scripts); err != nil {
		t.Fatal(err)
	}
	tls := libc.NewTLS()
	defer tls.Close()
	name := cstring(t, ":memory:")
	defer libc.Xfree(tls, name)
	pdb := libc.Xmalloc(tls, 8)
	defer libc.Xfree(tls, pdb)
	if rc := lib.Xsqlite3_open_v2(tls, name, pdb, lib.SQLITE_OPEN_READWRITE|lib.SQLITE_OPEN_CREATE, 0); rc != lib.SQLITE_OK {
		t.Fatalf("sqlite3_open_v2: %d", rc)
	}
	db := cptr(pdb)
	defer lib.Xsqlite3_close_v2(tls, db)

	n := 0
	for _, script := range scripts.OK {
		want, err := sqlsplit.Split(script, sqlsplit.SQLite)
		if err != nil {
			t.Fatalf("Split(%q): %v", script, err)
		}
		got, fail := sqliteStatements(t, tls, db, script, true)
		if fail != "" {
			t.Errorf("SQLite on %q: %s", script, fail)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%q: SQLite reads %d statements %q, Split %d %q", script, len(got), got, len(want), want)
			continue
		}
		for i := range got {
			// SQLite's statement runs from the end of the one before,
			// leading comments included, to its ';'.
			if s := strings.TrimSuffix(strings.TrimSpace(got[i]), ";"); !strings.HasSuffix(strings.TrimSpace(s), want[i]) {
				t.Errorf("%q: statement %d is %q to SQLite, %q to Split", script, i+1, got[i], want[i])
			}
		}
		n += len(got)
	}
	for _, bad := range scripts.Refused {
		if _, fail := sqliteStatements(t, tls, db, bad, false); fail == "" {
			t.Errorf("SQLite prepared every statement of %q", bad)
		}
		if stmts, err := sqlsplit.Split(bad, sqlsplit.SQLite); err == nil {
			t.Errorf("Split(%q) = %q, want an error", bad, stmts)
		}
	}
	// Split follows sqld here (SQL_PARSE_ERROR): SQLite's tokenizer lets
	// an unterminated /* comment run to the end of the input.
	for _, s := range scripts.UnterminatedComments {
		if _, fail := sqliteStatements(t, tls, db, s, false); fail != "" {
			t.Errorf("SQLite on %q: %s (it used to end the comment at the end of the input)", s, fail)
		}
		if stmts, err := sqlsplit.Split(s, sqlsplit.SQLite); err == nil {
			t.Errorf("Split(%q) = %q, want an error, as sqld's", s, stmts)
		}
	}
	t.Logf("%d statements of %d scripts alike; %d refused", n, len(scripts.OK), len(scripts.Refused))
}

// sqliteStatements prepares script one statement at a time and returns
// the text of each (white space and comments alone are none); with run, it
// runs each before preparing the next. A failure is returned as text.
func sqliteStatements(t *testing.T, tls *libc.TLS, db uintptr, script string, run bool) ([]string, string) {
	src := cstring(t, script)
	defer libc.Xfree(tls, src)
	pstmt := libc.Xmalloc(tls, 8)
	defer libc.Xfree(tls, pstmt)
	ptail := libc.Xmalloc(tls, 8)
	defer libc.Xfree(tls, ptail)
	var out []string
	at := src
	for at < src+uintptr(len(script)) {
		if rc := lib.Xsqlite3_prepare_v2(tls, db, at, -1, pstmt, ptail); rc != lib.SQLITE_OK {
			return out, "prepare: " + libc.GoString(lib.Xsqlite3_errmsg(tls, db))
		}
		stmt, tail := cptr(pstmt), cptr(ptail)
		if stmt == 0 { // only white space and comments were left
			break
		}
		out = append(out, script[at-src:tail-src])
		rc := int32(lib.SQLITE_DONE)
		if run {
			rc = lib.Xsqlite3_step(tls, stmt)
			for rc == lib.SQLITE_ROW {
				rc = lib.Xsqlite3_step(tls, stmt)
			}
		}
		lib.Xsqlite3_finalize(tls, stmt)
		if rc != lib.SQLITE_DONE {
			return out, "step: " + libc.GoString(lib.Xsqlite3_errmsg(tls, db))
		}
		at = tail
	}
	return out, ""
}

// cstring copies s into C memory, to be freed with libc.Xfree.
func cstring(t *testing.T, s string) uintptr {
	p, err := libc.CString(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cptr reads the C pointer stored at p, in C memory (libc.Xmalloc), which
// Go's garbage collector neither moves nor frees.
func cptr(p uintptr) uintptr {
	return *(*uintptr)(unsafe.Add(unsafe.Pointer(nil), p))
}
