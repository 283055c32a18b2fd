package dialect_test

import (
	"testing"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/schema"
)

func TestMatch(t *testing.T) {
	col := []byte(`"c"`)
	for _, tc := range []struct {
		d        dialect.Dialect
		kind     dialect.MatchKind
		in       string
		sql, arg string
	}{
		{dialect.Postgres, dialect.Contains, `50%_off\`, `"c" LIKE $3 ESCAPE '\'`, `%50\%\_off\\%`},
		{dialect.Postgres, dialect.StartsWith, `a_`, `"c" LIKE $3 ESCAPE '\'`, `a\_%`},
		{dialect.Postgres, dialect.EndsWith, `%`, `"c" LIKE $3 ESCAPE '\'`, `%\%`},
		{dialect.Postgres, dialect.Contains, `héllo wörld`, `"c" LIKE $3 ESCAPE '\'`, `%héllo wörld%`},
		{dialect.Postgres, dialect.Contains, `é_\\`, `"c" LIKE $3 ESCAPE '\'`, `%é\_\\\\%`},
		{dialect.SQLite, dialect.Contains, `*?[x]%`, `instr("c", ?3) > 0`, `*?[x]%`},
		{dialect.SQLite, dialect.StartsWith, `a*`, `substr("c", 1, length(?3)) = ?3`, `a*`},
		{dialect.SQLite, dialect.EndsWith, `?`, `substr("c", -length(?3)) = ?3`, `?`},
	} {
		sql, arg := tc.d.AppendMatch(nil, tc.kind, col, 3, tc.in)
		if string(sql) != tc.sql || arg != tc.arg {
			t.Errorf("%s %d %q: %s with %q, want %s with %q", tc.d.Name(), tc.kind, tc.in, sql, arg, tc.sql, tc.arg)
		}
	}
}

func TestLiterals(t *testing.T) {
	tm := time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		d    dialect.Dialect
		kind schema.Kind
		v    any
		want string
	}{
		{dialect.SQLite, schema.Text, "it's", `'it''s'`},
		{dialect.Postgres, schema.Text, "it's", `'it''s'`},
		{dialect.SQLite, schema.Bool, true, `1`},
		{dialect.Postgres, schema.Bool, false, `false`},
		{dialect.SQLite, schema.Bytes, []byte{0xde, 0xad}, `X'dead'`},
		{dialect.Postgres, schema.Bytes, []byte{0xde, 0xad}, `'\xdead'::bytea`},
		{dialect.SQLite, schema.Time, tm, `'2024-05-06T06:08:09.000000010Z'`},
		{dialect.Postgres, schema.Int64, int64(-5), `-5`},
		{dialect.Postgres, schema.JSON, `{"a":1}`, `'{"a":1}'::jsonb`},
	} {
		got, err := tc.d.AppendLiteral(nil, tc.kind, tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s %v: %s (%v), want %s", tc.d.Name(), tc.v, got, err, tc.want)
		}
	}
	if _, err := dialect.Postgres.AppendLiteral(nil, schema.Text, "a\x00b"); err == nil {
		t.Error("a NUL byte in a literal was accepted")
	}
}

func TestIdentQuoting(t *testing.T) {
	if got := string(dialect.SQLite.AppendIdent(nil, `a"b`)); got != `"a""b"` {
		t.Errorf("got %s", got)
	}
	if got := string(dialect.Postgres.AppendLimit(nil, -1, 5)); got != ` LIMIT ALL OFFSET 5` {
		t.Errorf("got %s", got)
	}
	if got := string(dialect.SQLite.AppendLimit(nil, -1, 5)); got != ` LIMIT -1 OFFSET 5` {
		t.Errorf("got %s", got)
	}
}
