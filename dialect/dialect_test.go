package dialect_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

func TestFitName(t *testing.T) {
	short := "users_email_key"
	if got := dialect.FitName(short, 63); got != short {
		t.Errorf("a short name changed: %q", got)
	}
	a := dialect.ObjectName("a_table_whose_name_is_long_enough", []string{"a_rather_long_column_name_number_one"}, "key")
	b := dialect.ObjectName("a_table_whose_name_is_long_enough", []string{"a_rather_long_column_name_number_two"}, "key")
	if a == b || len(a) > 63 || len(b) > 63 || a[:54] != b[:54] {
		t.Errorf("long names: %q and %q", a, b)
	}
	if a != dialect.ObjectName("a_table_whose_name_is_long_enough", []string{"a_rather_long_column_name_number_one"}, "key") {
		t.Error("ObjectName is not deterministic")
	}
	// A cut never splits a UTF-8 sequence.
	u := dialect.FitName(strings.Repeat("é", 40), 63)
	if len(u) > 63 || !utf8.ValidString(u) {
		t.Errorf("UTF-8 name: %q (%d bytes)", u, len(u))
	}
	if got := dialect.FitName(strings.Repeat("x", 200), 0); len(got) != 200 {
		t.Error("no limit cut a name")
	}
	if dialect.Postgres.MaxIdentLen() != 63 || dialect.SQLite.MaxIdentLen() != 0 {
		t.Error("dialect limits")
	}
}

func TestInJSON(t *testing.T) {
	col := []byte(`"c"`)
	for _, tc := range []struct {
		d    dialect.Dialect
		not  bool
		kind schema.Kind
		sql  string
	}{
		{dialect.SQLite, false, schema.Int64, `"c" IN (SELECT value FROM json_each(?2))`},
		{dialect.SQLite, true, schema.Text, `"c" NOT IN (SELECT value FROM json_each(?2))`},
		{dialect.Postgres, false, schema.ID, `"c" = ANY(ARRAY(SELECT CAST(value AS bigint) FROM jsonb_array_elements_text(CAST($2 AS jsonb))))`},
		{dialect.Postgres, true, schema.Time, `NOT ("c" = ANY(ARRAY(SELECT CAST(value AS timestamp with time zone) FROM jsonb_array_elements_text(CAST($2 AS jsonb)))))`},
	} {
		if got := string(tc.d.AppendInJSON(nil, col, tc.not, 2, tc.kind)); got != tc.sql {
			t.Errorf("%s %v: %s, want %s", tc.d.Name(), tc.kind, got, tc.sql)
		}
	}
}

func TestSyncIdentity(t *testing.T) {
	if q, _ := dialect.SQLite.SyncIdentity("t", "id", 5); q != "" {
		t.Errorf("SQLite needs no identity sync: %s", q)
	}
	q, args := dialect.Postgres.SyncIdentity(`odd "t"`, "my id", 42)
	if q == "" || len(args) != 3 || args[0] != `"odd ""t"""` || args[1] != "my id" || args[2] != int64(42) {
		t.Errorf("%s %v", q, args)
	}
	if q, _ := dialect.Postgres.SyncIdentity("t", "id", 0); q != "" {
		t.Errorf("an id below 1 moves no sequence: %s", q)
	}
}

func TestParseMySQLVersion(t *testing.T) {
	for _, tc := range []struct {
		in string
		f  dialect.Flavor
		v  dialect.Version
	}{
		{"8.0.36", dialect.MySQLFlavor, dialect.Version{Major: 8, Minor: 0, Patch: 36}},
		{"8.4.0-log", dialect.MySQLFlavor, dialect.Version{Major: 8, Minor: 4}},
		{"10.11.19-MariaDB-0+deb12u1", dialect.MariaDBFlavor, dialect.Version{Major: 10, Minor: 11, Patch: 19}},
		{"5.5.5-10.6.12-MariaDB", dialect.MariaDBFlavor, dialect.Version{Major: 10, Minor: 6, Patch: 12}},
	} {
		f, v, err := dialect.ParseMySQLVersion(tc.in)
		if err != nil || f != tc.f || v != tc.v {
			t.Errorf("%q: %v %v %v", tc.in, f, v, err)
		}
	}
	for _, bad := range []string{"", "x", "8", "8.0", "8.0.x", "1234567.0.0"} {
		if _, _, err := dialect.ParseMySQLVersion(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !(dialect.Version{Major: 8, Minor: 0, Patch: 19}).AtLeast(8, 0, 19) || (dialect.Version{Major: 8, Minor: 0, Patch: 18}).AtLeast(8, 0, 19) {
		t.Error("AtLeast")
	}
}

func TestMySQLText(t *testing.T) {
	my := dialect.MySQL(dialect.MySQLFlavor, dialect.Version{Major: 8, Minor: 0, Patch: 36})
	col := []byte("`c`")
	for _, tc := range []struct {
		kind     dialect.MatchKind
		in, want string
	}{
		{dialect.Contains, `50%_off!\`, `%50!%!_off!!\%`},
		{dialect.StartsWith, `a_`, `a!_%`},
		{dialect.EndsWith, `%`, `%!%`},
	} {
		sql, arg := my.AppendMatch(nil, tc.kind, col, 1, tc.in)
		if string(sql) != "`c` LIKE ? ESCAPE '!'" || arg != tc.want {
			t.Errorf("%q: %s with %q", tc.in, sql, arg)
		}
	}
	if got := string(my.AppendIdent(nil, "we`ird")); got != "`we``ird`" {
		t.Errorf("AppendIdent: %s", got)
	}
	tm := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		kind schema.Kind
		v    any
		want string
	}{
		{schema.Text, `it's \ here`, `('it''s \ here')`},
		{schema.Bool, true, `1`},
		{schema.Bytes, []byte{0xde, 0xad}, `(X'dead')`},
		{schema.Time, tm, `'2024-05-06 06:08:09.123456'`},
		{schema.JSON, `{"a":1}`, `('{"a":1}')`},
		{schema.Int64, int64(-5), `-5`},
	} {
		got, err := my.AppendLiteral(nil, tc.kind, tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("%v: %s (%v), want %s", tc.v, got, err, tc.want)
		}
	}
	if got := my.EncodeTime(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)); got != "0001-01-01 00:00:00.000000" {
		t.Errorf("EncodeTime of year 1: %v", got)
	}
	maria := dialect.MySQL(dialect.MariaDBFlavor, dialect.Version{Major: 10, Minor: 11})
	if !maria.Returning() || maria.UpdateReturning() || my.Returning() {
		t.Error("RETURNING per flavour")
	}
	if my.TableOptions() != " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin" ||
		maria.TableOptions() != " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin" {
		t.Error("collations")
	}
}
