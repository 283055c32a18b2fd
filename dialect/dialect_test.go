package dialect_test

import (
	"testing"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/schema"
)

func TestMatchEscapesWildcards(t *testing.T) {
	for _, tc := range []struct {
		d        dialect.Dialect
		kind     dialect.MatchKind
		in, want string
	}{
		{dialect.Postgres, dialect.Contains, `50%_off\`, `%50\%\_off\\%`},
		{dialect.Postgres, dialect.StartsWith, `a_`, `a\_%`},
		{dialect.Postgres, dialect.EndsWith, `%`, `%\%`},
		{dialect.SQLite, dialect.Contains, `*?[x]`, `*[*][?][[]x]*`},
		{dialect.SQLite, dialect.StartsWith, `a*`, `a[*]*`},
		{dialect.SQLite, dialect.EndsWith, `?`, `*[?]`},
	} {
		_, got, _ := tc.d.Match(tc.kind, tc.in)
		if got != tc.want {
			t.Errorf("%s %d %q: %q, want %q", tc.d.Name(), tc.kind, tc.in, got, tc.want)
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
