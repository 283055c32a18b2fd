package main

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/schema"
)

func TestTransactionControl(t *testing.T) {
	for s, want := range map[string]bool{
		"BEGIN": true, "begin transaction": true, "COMMIT": true, "END": true, "ROLLBACK TO x": true,
		"START TRANSACTION": true, "SAVEPOINT a": true, "SELECT 1": false, "CREATE TRIGGER t BEGIN SELECT 1; END": false,
		"START": false, "": false,
	} {
		if got := transactionControl(s); got != want {
			t.Errorf("transactionControl(%q) = %v", s, got)
		}
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"user_id": "UserID", "created_at": "CreatedAt", "http_server": "HTTPServer", "api_url": "APIURL",
		"id": "ID", "UserName": "UserName", "2fa": "X2fa", "name-with-dash": "NameWithDash", "___": "", "uuid": "UUID",
	} {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Users": "User", "Categories": "Category", "Addresses": "Address", "Boxes": "Box", "Status": "Status",
		"News": "News", "Analysis": "Analysis", "Data": "Data", "S": "S",
	} {
		if got := singular(in); got != want {
			t.Errorf("singular(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSnakeCaseMatchesForge checks that forge.ColumnName, which pull uses to
// decide on .Column, agrees with the names models get.
func TestSnakeCaseMatchesForge(t *testing.T) {
	type row struct {
		ID             int64
		UserID         int64
		APIURL         string
		HTTPServer     string
		CreatedAt      string
		XMLHTTPRequest string
		UTF8Name       string
		X2fa           string
		A1B2           string
	}
	m := forge.Model("rows", func(r *row, f *forge.Fields) {
		f.ID(&r.ID)
		f.Int(&r.UserID)
		f.Text(&r.APIURL)
		f.Text(&r.HTTPServer)
		f.Text(&r.CreatedAt)
		f.Text(&r.XMLHTTPRequest)
		f.Text(&r.UTF8Name)
		f.Text(&r.X2fa)
		f.Text(&r.A1B2)
	})
	if m.Err() != nil {
		t.Fatal(m.Err())
	}
	for _, c := range m.Table().Columns {
		if got := forge.ColumnName(c.Field); got != c.Name {
			t.Errorf("snakeCase(%q) = %q, forge says %q", c.Field, got, c.Name)
		}
	}
}

func TestDecodeSchema(t *testing.T) {
	type all struct {
		ID  int64
		I   int64
		I32 int32
		F   float64
		B   bool
		S   string
		T   time.Time
		Y   []byte
		J   map[string]any
		NI  *int64
	}
	when := time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.UTC)
	m := forge.Model("all", func(a *all, f *forge.Fields) {
		f.ID(&a.ID)
		f.Int(&a.I).Default(int64(1) << 60)
		f.Int32(&a.I32).Default(int32(-7))
		f.Float(&a.F).Default(2.0)
		f.Bool(&a.B).Default(true)
		f.Text(&a.S).Default("x")
		f.Time(&a.T).Default(when)
		f.Bytes(&a.Y).Default([]byte{0, 1, 255})
		f.JSON(&a.J).Default(map[string]any{"k": []int{1}})
		f.NullInt(&a.NI).Default(int64(3))
	})
	s, err := forge.NewSchema(m)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s.Describe())
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSchema(data)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range s.Describe().Tables[0].Columns {
		g := got.Tables[0].Columns[i]
		if c.Default == nil {
			if g.Default != nil {
				t.Errorf("%s: default %v from nothing", c.Name, g.Default)
			}
			continue
		}
		want, have := c.Default.Value, g.Default.Value
		if wt, ok := want.(time.Time); ok {
			if ht, ok := have.(time.Time); !ok || !ht.Equal(wt) {
				t.Errorf("%s: %v (%T), want %v", c.Name, have, have, want)
			}
			continue
		}
		if !reflect.DeepEqual(want, have) {
			t.Errorf("%s: %#v (%T), want %#v (%T)", c.Name, have, have, want, want)
		}
	}
	// The SQL a default renders to is the same after the trip.
	for _, d := range []dialect.Dialect{dialect.SQLite, dialect.Postgres} {
		for i, c := range s.Describe().Tables[0].Columns {
			if c.Default == nil {
				continue
			}
			a, _ := d.AppendLiteral(nil, c.Kind, c.Default.Value)
			b, _ := d.AppendLiteral(nil, c.Kind, got.Tables[0].Columns[i].Default.Value)
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: %s, want %s", d.Name(), c.Name, b, a)
			}
		}
	}
	if _, err := decodeSchema([]byte(`{"Tables":[{"Name":"t","Columns":[{"Name":"c","Kind":4,"Default":{"Value":"nope"}}]}]}`)); err == nil {
		t.Error("a text default of an int64 column was accepted")
	}
}

func TestLiteralDefault(t *testing.T) {
	for _, tc := range []struct {
		d    dialect.Dialect
		kind schema.Kind
		expr string
		want any
	}{
		{dialect.Postgres, schema.Text, "'it''s'::text", "it's"},
		{dialect.Postgres, schema.Text, "'a'::character varying", "a"},
		{dialect.Postgres, schema.Int64, "'-5'::integer", int64(-5)},
		{dialect.Postgres, schema.Int64, "42", int64(42)},
		{dialect.Postgres, schema.Int32, "('-3'::integer)", int32(-3)},
		{dialect.Postgres, schema.Float, "'-1.5'::numeric", -1.5},
		{dialect.Postgres, schema.Bool, "true", true},
		{dialect.Postgres, schema.Bytes, `'\x01ff'::bytea`, []byte{1, 0xff}},
		{dialect.Postgres, schema.JSON, `'{"a": 1}'::jsonb`, `{"a": 1}`},
		{dialect.Postgres, schema.Time, "'2020-01-02 03:04:05.5+00'::timestamp with time zone", time.Date(2020, 1, 2, 3, 4, 5, 5e8, time.UTC)},
		{dialect.Postgres, schema.Text, "('x'::text || 'y'::text)", nil},
		{dialect.Postgres, schema.Text, "gen_random_uuid()", nil},
		{dialect.Postgres, schema.Int64, "nextval('t_id_seq'::regclass)", nil},
		{dialect.SQLite, schema.Text, "'a;b'", "a;b"},
		{dialect.SQLite, schema.Int64, "-7", int64(-7)},
		{dialect.SQLite, schema.Bytes, "X'00FF'", []byte{0, 0xff}},
		{dialect.SQLite, schema.Float, "1e3", 1000.0},
		{dialect.SQLite, schema.Text, "('a' || 'b')", nil},
		{dialect.SQLite, schema.Text, "CURRENT_TIMESTAMP", nil},
		{dialect.SQLite, schema.Int64, "'5'", int64(5)},
	} {
		got, ok := literalDefault(tc.d, &schema.Column{Kind: tc.kind, Default: &schema.Default{Expr: tc.expr}})
		if tc.want == nil {
			if ok {
				t.Errorf("%s %s: %v, want no literal", tc.d.Name(), tc.expr, got)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s: %#v %v, want %#v", tc.d.Name(), tc.expr, got, ok, tc.want)
		}
	}
}

func TestParseDB(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:app.db": "app.db", "sqlite://app.db": "app.db", "sqlite:///tmp/x.db": "/tmp/x.db", "file:a/b.db": "a/b.db",
		"SQLITE:x.db": "x.db", "sqlite:/tmp/a#1/x.db": "/tmp/a#1/x.db",
	} {
		u, err := parseDB(in)
		if err != nil || u.sqlite != want {
			t.Errorf("parseDB(%q) = %+v, %v; want the file %s", in, u, err, want)
		}
	}
	for _, in := range []string{"postgres://u:secret@h/db", "postgresql://h/db?sslmode=disable"} {
		u, err := parseDB(in)
		if err != nil || u.pg != in {
			t.Errorf("parseDB(%q) = %+v, %v", in, u, err)
		}
	}
	if u, _ := parseDB("postgres://u:secret@h/db"); strings.Contains(u.String(), "secret") {
		t.Errorf("the password shows: %s", u)
	}
	for _, in := range []string{"mysql://u:secret@h:3307/db", "mariadb://h/db?tls=true"} {
		u, err := parseDB(in)
		if err != nil || u.mysql != in || u.dialect().Name() != "mysql" || strings.Contains(u.String(), "secret") {
			t.Errorf("parseDB(%q) = %+v, %v", in, u, err)
		}
	}
	for _, in := range []string{"app.db", "mssql://h/db", "mysql:///db", "mysql://h/db?parseTime=maybe", "sqlite:", "sqlite:a.db?mode=ro", ""} {
		if _, err := parseDB(in); err == nil {
			t.Errorf("parseDB(%q) accepted", in)
		}
	}
}

// TestUsage runs the command line in-process.
func TestUsage(t *testing.T) {
	ctx := context.Background()
	run1 := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, _ := run1(); code != exitUsage {
		t.Errorf("no arguments: exit %d", code)
	}
	code, out, _ := run1("help")
	if code != exitOK || !strings.Contains(out, "Exit codes:") || !strings.Contains(out, "64  bad command line") {
		t.Errorf("forge help: %d\n%s", code, out)
	}
	for _, c := range append(commands(), migrateCommands()...) {
		args := append(strings.Fields(c.name), "--help")
		code, out, errOut := run1(args...)
		if code != exitOK || !strings.Contains(out, "Usage: forge") || !strings.Contains(out, "Example") {
			t.Errorf("forge %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		code, out2, _ := run1(append([]string{"help"}, strings.Fields(c.name)...)...)
		if code != exitOK || out2 != out {
			t.Errorf("forge help %s differs from --help", c.name)
		}
	}
	for _, args := range [][]string{
		{"frobnicate"},
		{"push", "--db", "sqlite:x.db"},
		{"push", "--schema", "."},
		{"push", "--schema", ".", "--db", "nonsense"},
		{"push", "--bogus"},
		{"push", "--schema", ".", "--db", "sqlite:x.db", "extra"},
		{"push", "--schema", ".", "--db", "sqlite:x.db", "--lock-ttl", "1ms"},
		{"diff", "--exit-code=maybe"},
		{"migrate"},
		{"migrate", "sideways"},
		{"migrate", "new"},
		{"migrate", "new", "a", "b"},
		{"migrate", "new", "---", "--empty"},
		{"migrate", "new", "x", "--dialect", "oracle", "--empty"},
		{"migrate", "apply"},
		{"pull", "--db", "sqlite:x.db", "--package", "not valid"},
	} {
		if code, out, errOut := run1(args...); code != exitUsage || errOut == "" {
			t.Errorf("forge %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, exitUsage, out, errOut)
		}
	}
}

func TestMigrateNewEmpty(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	// Flags and the name in any order.
	if code := run(context.Background(), []string{"migrate", "new", "--dir", dir, "backfill slugs", "--empty"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	md, err := readMigrations(dir)
	if err != nil || len(md.files) != 1 || md.files[0].name != "0001_backfill_slugs" || md.files[0].down == "" {
		t.Fatalf("%+v %v", md, err)
	}
	s, err := readScript(md.files[0].up)
	if err != nil || len(s.stmts) != 0 {
		t.Fatalf("the empty migration: %+v %v", s, err)
	}
	if code := run(context.Background(), []string{"migrate", "new", "next", "--dir", dir, "--empty"}, &out, &errb); code != exitOK {
		t.Fatal(errb.String())
	}
	if md, _ := readMigrations(dir); len(md.files) != 2 || md.files[1].name != "0002_next" {
		t.Fatalf("%+v", md.files)
	}
}

func TestPanicMessage(t *testing.T) {
	out := "hello from init\npanic: forge: model User: field Email: bad\n\tforge: model Post: field Title: worse\n\ngoroutine 1 [running]:\nmain.init()\nexit status 2"
	msg, before := panicMessage(out)
	if msg != "forge: model User: field Email: bad\nforge: model Post: field Title: worse" || before != "hello from init" {
		t.Errorf("got %q, %q", msg, before)
	}
}
