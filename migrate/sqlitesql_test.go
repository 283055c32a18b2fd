package migrate

import (
	"testing"
)

func TestParseSQLiteTable(t *testing.T) {
	sql := `CREATE TABLE "t" (
  id INTEGER PRIMARY KEY AUTOINCREMENT, -- a comment with CHECK (x)
  "name" TEXT NOT NULL COLLATE NOCASE CHECK (name <> 'CHECK (y)'),
  [n] INTEGER CONSTRAINT n_pos CHECK (n > 0) CHECK (n < 10),
  len INT GENERATED ALWAYS AS (length("name")) STORED,
  v AS (n * 2),
  /* CHECK (z) */ CONSTRAINT "both" CHECK (n < len), CHECK ((n) <> 5)
)`
	checks, cols := parseSQLiteTable("t", sql)
	want := []struct{ name, expr, col string }{
		{"t_name_check", `name <> 'CHECK (y)'`, "name"},
		{"n_pos", "n > 0", "n"},
		{"t_n_check", "n < 10", "n"},
		{"both", "n < len", ""},
		{"t_check", "(n) <> 5", ""},
	}
	if len(checks) != len(want) {
		t.Fatalf("checks: %+v", checks)
	}
	for i, w := range want {
		if c := checks[i]; c.Name != w.name || c.Expr != w.expr || c.Column != w.col {
			t.Errorf("check %d: %+v, want %+v", i, c, w)
		}
	}
	if !cols["id"].noReuse || cols["name"].collate != "NOCASE" || cols["len"].generated != `length("name")` || !cols["len"].stored ||
		cols["v"].generated != "n * 2" || cols["v"].stored {
		t.Errorf("columns: id %+v name %+v len %+v v %+v", cols["id"], cols["name"], cols["len"], cols["v"])
	}
	if !mentions(`CREATE VIEW v AS SELECT "Age" FROM t`, "age") || mentions(`SELECT 'age' FROM t`, "age") {
		t.Error("mentions")
	}
}

// FuzzParseSQLiteTable: any text parses without a panic.
func FuzzParseSQLiteTable(f *testing.F) {
	f.Add(`CREATE TABLE t (a INT CHECK (a > 0), b AS (a + 1) STORED, CONSTRAINT c CHECK (b <> 'x''y'))`)
	f.Add(`CREATE TABLE t ("a`)
	f.Add(`CREATE TABLE t (a CHECK (`)
	f.Add(`CREATE TABLE [t] (/* x`)
	f.Fuzz(func(t *testing.T, sql string) {
		checks, _ := parseSQLiteTable("t", sql)
		for _, c := range checks {
			if c.Name == "" {
				t.Fatalf("a CHECK without a name: %+v", c)
			}
		}
		_ = mentions(sql, "a")
	})
}
