package forge_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/fakedriver"
	"github.com/forge-orm/forge/migrate"
	"github.com/forge-orm/forge/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Member is the model of the MySQL golden tests.
type Member struct {
	ID      int64
	Email   string
	Nick    *string
	Score   int64
	Joined  time.Time
	Meta    map[string]any
	Profile []Note
}

// Note belongs to a Member.
type Note struct {
	ID       int64
	MemberID int64
	Body     string
	Slug     string
}

var (
	Members = forge.Model("members", func(m *Member, f *forge.Fields) {
		f.ID(&m.ID)
		f.Text(&m.Email).Unique()
		f.NullText(&m.Nick)
		f.Int(&m.Score).Default(int64(0))
		f.Time(&m.Joined).DefaultNow()
		f.JSON(&m.Meta)
		f.HasMany(&m.Profile, func(n *Note) *int64 { return &n.MemberID })
	})
	Notes = forge.Model("notes", func(n *Note, f *forge.Fields) {
		f.ID(&n.ID)
		f.Int(&n.MemberID).References(forge.Ref[Member]()).Index()
		f.Text(&n.Body).Index()
		f.Text(&n.Slug)
		f.Index(&n.MemberID, &n.Slug).Unique()
	})
)

// TestMySQLGolden checks the SQL forge writes for MySQL (8.0.36, which no
// server here runs) and MariaDB against testdata/mysql-*.golden: a MySQL
// server is not available to run it, so its text is pinned instead. Run
// with -update to rewrite the files after an intended change, and review
// the diff.
func TestMySQLGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		d    dialect.Dialect
	}{
		{"mysql-8.0.36.golden", dialect.MySQLConsecutiveIDs(dialect.MySQLFlavor, dialect.Version{Major: 8, Minor: 0, Patch: 36}, 1)},
		{"mysql-8.0.18-lockmode2.golden", dialect.MySQL(dialect.MySQLFlavor, dialect.Version{Major: 8, Minor: 0, Patch: 18})},
		{"mariadb-10.11.golden", dialect.MySQL(dialect.MariaDBFlavor, dialect.Version{Major: 10, Minor: 11, Patch: 19})},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := mysqlScript(t, tc.d)
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestMySQLGolden -update to write it)", err)
			}
			if got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(gl) || i < len(wl); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update after an intended change)", path, i+1, g, w)
					}
				}
			}
		})
	}
}

// mysqlScript runs every kind of statement forge writes on d against a
// scripted fake and returns the statements, one section per operation.
func mysqlScript(t *testing.T, d dialect.Dialect) string {
	ctx := context.Background()
	// As the mysql module's connection: transactions and sessions, no batches.
	f := fakedriver.New(d, fakedriver.Transactions|fakedriver.Sessions|fakedriver.Named)
	joined := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	row := []any{int64(7), "a@x", nil, int64(3), joined, []byte(`{"k":1}`)}
	cols := []string{"id", "email", "nick", "score", "joined", "meta"}
	f.On(fakedriver.Contains("FOR UPDATE")).Rows([]string{"id"}, []any{int64(7)})
	f.On(fakedriver.Contains("GROUP BY")).Rows([]string{"score", "total", "avg"}, []any{int64(3), int64(6), 3.0})
	f.On(fakedriver.Prefix(`SELECT "holder"`)).Rows([]string{"holder"}, []any{"golden"})
	f.On(fakedriver.Prefix(`SELECT "step"`)).Rows([]string{"step"})
	f.On(fakedriver.Prefix(`SELECT`)).Rows(cols, row)
	f.On(fakedriver.OfKind(fakedriver.Query, fakedriver.Prefix("DELETE"))).Rows([]string{"id"}, []any{int64(7)})
	f.On(fakedriver.OfKind(fakedriver.Query, fakedriver.Prefix("INSERT"))).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		n := strings.Count(s.SQL, "), (") + 1
		var rows [][]any
		for i := 0; i < n; i++ {
			rows = append(rows, []any{int64(10 + i), fmt.Sprintf("m%d@x", i), nil, int64(0), joined, []byte(`{}`)})
		}
		return fakedriver.Answer{Columns: cols, Rows: rows}
	})
	f.On(fakedriver.Any()).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		n := int64(strings.Count(s.SQL, "), (") + 1)
		return fakedriver.Answer{Result: driver.Result{RowsAffected: n, LastInsertID: 10, HasLastInsertID: true}}
	})
	db, err := forge.Open(forge.MustSchema(Members, Notes), f.Conn(), forge.WithObserver(nopObserver{}))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	seen := 0 // statements already written
	section := func(name string, err error) {
		fmt.Fprintf(&out, "-- %s", name)
		if err != nil {
			fmt.Fprintf(&out, " (error: %v)", err)
		}
		out.WriteString("\n")
		all := f.Statements()
		for _, s := range all[seen:] {
			switch s.Kind {
			case fakedriver.Begin, fakedriver.Commit, fakedriver.Rollback:
				fmt.Fprintf(&out, "%s\n", strings.ToUpper(s.Kind.String()))
			default:
				batch := ""
				if s.Batch > 0 {
					batch = fmt.Sprintf(", statement %d of an atomic batch", s.Index+1)
				}
				fmt.Fprintf(&out, "%s;  -- %d arg(s)%s\n", s.SQL, len(s.Args), batch)
			}
		}
		out.WriteString("\n")
		seen = len(all)
	}
	c := Members.Cols()
	section("CreateSchema", db.CreateSchema(ctx))
	_, err = Members.Create(ctx, db, Member{Email: "a@x"})
	section("Create", err)
	ms, err := Members.CreateMany(ctx, db, []Member{{Email: "b@x"}, {Email: "c@x"}, {Email: "d@x"}})
	section("CreateMany", err)
	if err == nil {
		fmt.Fprintf(&out, "-- ids read back: %d %d %d\n\n", ms[0].ID, ms[1].ID, ms[2].ID)
	}
	_, err = Members.FindMany(ctx, db, forge.Where(forge.Contains(&c.Email, "50%_off!"), forge.StartsWith(&c.Email, "a")),
		forge.OrderBy(&c.Nick, forge.Desc), forge.OrderBy(&c.Score, forge.Asc), forge.Skip(5))
	section("FindMany: text matches, NULL ordering, offset alone", err)
	many := make([]int64, 1200)
	for i := range many {
		many[i] = int64(i)
	}
	_, err = Members.FindMany(ctx, db, forge.Where(forge.In(&c.ID, many...), forge.NotIn(&c.Joined, joined)))
	section("FindMany: a long In list", err)
	times := make([]time.Time, 1001)
	for i := range times {
		times[i] = joined.Add(time.Duration(i) * time.Second)
	}
	_, err = Members.FindMany(ctx, db, forge.Where(forge.In(&c.Joined, times...), forge.In(&c.Email, "x", "y")))
	section("FindMany: a long In list of times", err)
	_, err = Members.Update(ctx, db, forge.Eq(&c.Email, "a@x"), forge.Set(&c.Score, int64(5)))
	section("Update", err)
	_, err = Members.UpdateMany(ctx, db, forge.Gt(&c.Score, int64(1)), forge.Set(&c.Score, int64(0)))
	section("UpdateMany (with a mutation observer: keys first)", err)
	_, err = Members.Upsert(ctx, db, Member{Email: "a@x", Score: 9}, forge.OnConflict(&c.Email))
	section("Upsert", err)
	_, err = Members.Upsert(ctx, db, Member{Email: "a@x", Score: 9}, forge.OnConflict(&c.Email).Update(&c.Score, &c.Nick))
	section("Upsert with Update columns", err)
	err = Members.Delete(ctx, db, forge.Eq(&c.ID, int64(7)))
	section("Delete", err)
	type byScore struct {
		Score int64
		Total int64
		Avg   float64
	}
	_, err = forge.Aggregate(ctx, db, Members, func(r *byScore, a *forge.Agg) {
		forge.Group(a, &r.Score, &c.Score)
		forge.Sum(a, &r.Total, &c.Score)
		forge.Avg(a, &r.Avg, &c.Score)
		a.OrderBy(&r.Total, forge.Desc)
	}, forge.Take(3))
	section("Aggregate", err)

	// Schema changes.
	live := Members.Table()
	want := *live
	want.Columns = append([]*schema.Column{}, live.Columns...)
	nick := *want.Column("nick")
	nick.Nullable = false
	nick.Default = &schema.Default{Value: "it's a \\ back"}
	for i, col := range want.Columns {
		if col.Name == "nick" {
			want.Columns[i] = &nick
		}
	}
	want.Columns = append(want.Columns, &schema.Column{Name: "flag", Kind: schema.Bool, Default: &schema.Default{Value: true}},
		&schema.Column{Name: "raw", Kind: schema.Bytes, Nullable: true, Default: &schema.Default{Value: []byte{0xde, 0xad}}})
	want.Indexes = []*schema.Index{{Name: "members_nick_idx", Columns: []string{"nick", "score"}}}
	plan := migrate.Diff(d, &schema.Schema{Tables: []*schema.Table{&want, Notes.Table()}}, &schema.Schema{Tables: []*schema.Table{live, Notes.Table()}})
	stmts, err := plan.Statements(d)
	section("migrate.Diff: alter, add, drop and create index (defaults given as values differ from the model's as written, hence the MODIFYs)", err)
	for _, s := range stmts {
		fmt.Fprintf(&out, "%s;\n", s)
	}
	out.WriteString("\n")
	section("migrate changes", nil)
	fk := Notes.Table().ForeignKeys[0]
	for _, ch := range []migrate.Change{
		&migrate.DropForeignKey{Table: "notes", FK: fk},
		&migrate.AddForeignKey{Table: "notes", FK: fk, IfNotExists: true},
		&migrate.ReplacePrimaryKey{Table: "notes", Columns: []string{"id", "member_id"}, Old: true},
	} {
		ss, err := ch.Statements(d)
		if err != nil {
			fmt.Fprintf(&out, "-- %s: %v\n", ch, err)
		}
		for _, s := range ss {
			fmt.Fprintf(&out, "%s;\n", s)
		}
	}
	out.WriteString("\n")
	lock, err := migrate.AcquireLock(ctx, f.Conn(), migrate.LockOptions{Holder: "golden", Wait: -1})
	if err == nil {
		_ = lock.Release(ctx)
	}
	section("migration lock", err)
	err = migrate.ApplyStatements(ctx, f.Conn(), []string{"CREATE TABLE a (x INT)", "CREATE TABLE b (x INT)"}, migrate.StatementOptions{})
	section("migrate.ApplyStatements (atomic: "+fmt.Sprint(migrate.Atomic(d))+")", err)
	return out.String()
}

// nopObserver makes forge report mutations with keys.
type nopObserver struct{}

func (nopObserver) QueryStart(ctx context.Context, e *forge.QueryEvent) context.Context { return ctx }
func (nopObserver) QueryEnd(ctx context.Context, e *forge.QueryEvent)                   {}
func (nopObserver) Mutation(ctx context.Context, e *forge.MutationEvent)                {}
