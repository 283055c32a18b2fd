package forgetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
	"github.com/forge-orm/forge/schema"
)

// MigrateTests is the migration conformance suite: introspection, diff,
// plans applied and checked by diffing again, atomic failure, the lock.
var MigrateTests = []Test{
	{"NoDriftAfterCreate", testNoDriftAfterCreate},
	{"Evolve", testEvolve},
	{"DefaultsRoundTrip", testDefaultsRoundTrip},
	{"FailureLeavesNothing", testFailureLeavesNothing},
	{"Lock", testLock},
	{"RacingPushers", testRacingPushers},
	{"LockSlowStep", testLockSlowStep},
	{"LongNames", testLongNames},
	{"DatabaseOwned", testDatabaseOwned},
	{"RebuildKeeps", testRebuildKeeps},
	{"CreateSchemaCycle", testCreateSchemaCycle},
}

// RunMigrate runs MigrateTests, each on a fresh database from open.
func RunMigrate(t *testing.T, open Opener) {
	for _, tc := range MigrateTests {
		t.Run(tc.Name, func(t *testing.T) {
			conn := open(t)
			t.Cleanup(func() { _ = conn.Close() })
			db, err := forge.Open(Schema, conn)
			if err != nil {
				t.Fatal(err)
			}
			tc.Run(t, &Harness{DB: db})
		})
	}
}

// applyAndCheck applies the plan from live to want, then checks that a
// second diff is empty.
func applyAndCheck(t *testing.T, conn driver.Conn, want *schema.Schema, allow bool) *migrate.Plan {
	t.Helper()
	ctx := context.Background()
	d := conn.Dialect()
	live, err := migrate.Inspect(ctx, conn, d)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	plan := migrate.Diff(d, want, live)
	if err := migrate.Apply(ctx, conn, plan, migrate.ApplyOptions{AllowDestructive: allow}); err != nil {
		var sb strings.Builder
		_, _ = plan.WriteTo(d, &sb)
		t.Fatalf("apply: %v\nplan:\n%s", err, sb.String())
	}
	live, err = migrate.Inspect(ctx, conn, d)
	if err != nil {
		t.Fatal(err)
	}
	if again := migrate.Diff(d, want, live); !again.Empty() {
		var sb strings.Builder
		_, _ = plan.WriteTo(d, &sb)
		t.Fatalf("drift after applying the plan:\n%s\napplied:\n%s", again.Describe(), sb.String())
	}
	return plan
}

func testNoDriftAfterCreate(t *testing.T, h *Harness) {
	ctx := context.Background()
	plan, err := h.DB.Drift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Empty() {
		t.Fatal("an empty database shows no drift")
	}
	if err := h.DB.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	plan, err = h.DB.Drift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Errorf("drift right after CreateSchema:\n%s", plan.Describe())
	}
	live, err := migrate.Inspect(ctx, h.DB.Driver(), h.DB.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	users := live.Table("users")
	if users == nil || users.Column("email") == nil || users.Column("nickname") == nil || !users.Column("nickname").Nullable || users.Column("email").Nullable {
		t.Fatalf("inspected users: %+v", users)
	}
	if c := users.Column("id"); !c.PrimaryKey || !c.AutoIncrement || c.Kind != schema.ID {
		t.Errorf("inspected id: %+v", c)
	}
	var uniq bool
	for _, ix := range users.Indexes {
		uniq = uniq || (ix.Name == "users_email_key" && ix.Unique)
	}
	if !uniq {
		t.Errorf("inspected indexes: %+v", users.Indexes)
	}
	posts := live.Table("posts")
	if len(posts.ForeignKeys) != 1 || posts.ForeignKeys[0].RefTable != "users" || posts.ForeignKeys[0].OnDelete != schema.Cascade {
		t.Errorf("inspected foreign keys: %+v", posts.ForeignKeys)
	}
}

// itemsV builds the evolving test table.
func itemsV(mod func(t *schema.Table)) *schema.Schema {
	t := &schema.Table{Name: "items", PrimaryKey: []string{"id"}, Columns: []*schema.Column{
		{Name: "id", Kind: schema.ID, PrimaryKey: true, AutoIncrement: true},
		{Name: "name", Kind: schema.Text},
		{Name: "qty", Kind: schema.Int64, Default: &schema.Default{Value: int64(0)}},
		{Name: "note", Kind: schema.Text, Nullable: true},
	}, Indexes: []*schema.Index{{Name: "items_name_idx", Columns: []string{"name"}}}}
	s := &schema.Schema{Tables: []*schema.Table{t}}
	if mod != nil {
		mod(t)
	}
	return s
}

func col(t *schema.Table, name string) *schema.Column { return t.Column(name) }

func testEvolve(t *testing.T, h *Harness) {
	ctx := context.Background()
	conn := h.DB.Driver()
	ph := func(n int) string { return string(h.DB.Dialect().AppendPlaceholder(nil, n)) }
	count := func() int64 {
		rows, err := conn.Query(ctx, `SELECT COUNT(*) FROM "items"`, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var n int64
		rows.Next()
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	applyAndCheck(t, conn, itemsV(nil), false)
	for i := 0; i < 3; i++ {
		if _, err := conn.Exec(ctx, `INSERT INTO "items" ("name", "qty", "note") VALUES (`+ph(1)+`, `+ph(2)+`, `+ph(3)+`)`, []any{fmt.Sprintf("n%d", i), int64(i), "x"}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name        string
		mod         func(t *schema.Table)
		destructive bool
	}{
		{"add a nullable column", func(t *schema.Table) {
			t.Columns = append(t.Columns, &schema.Column{Name: "tag", Kind: schema.Text, Nullable: true})
		}, false},
		{"add a NOT NULL column with a default", func(t *schema.Table) {
			t.Columns = append(t.Columns, &schema.Column{Name: "tag", Kind: schema.Text, Nullable: true},
				&schema.Column{Name: "score", Kind: schema.Float, Default: &schema.Default{Value: 1.5}})
		}, false},
		{"swap indexes", func(t *schema.Table) {
			t.Columns = append(t.Columns, &schema.Column{Name: "tag", Kind: schema.Text, Nullable: true},
				&schema.Column{Name: "score", Kind: schema.Float, Default: &schema.Default{Value: 1.5}})
			t.Indexes = []*schema.Index{{Name: "items_tag_score_key", Columns: []string{"tag", "score"}, Unique: true}}
		}, false},
		{"change a default and nullability", func(t *schema.Table) {
			t.Columns = append(t.Columns, &schema.Column{Name: "tag", Kind: schema.Text, Nullable: true},
				&schema.Column{Name: "score", Kind: schema.Float, Default: &schema.Default{Value: 1.5}})
			col(t, "qty").Default = &schema.Default{Value: int64(5)}
			col(t, "note").Nullable = false
			col(t, "note").Default = &schema.Default{Value: "none"}
		}, false},
		{"widen a type to text", func(t *schema.Table) {
			t.Columns = append(t.Columns, &schema.Column{Name: "tag", Kind: schema.Text, Nullable: true},
				&schema.Column{Name: "score", Kind: schema.Float, Default: &schema.Default{Value: 1.5}})
			col(t, "qty").Kind = schema.Text
			col(t, "qty").Default = &schema.Default{Value: "5"}
			col(t, "note").Nullable = false
			col(t, "note").Default = &schema.Default{Value: "none"}
		}, false},
		{"drop a column", func(t *schema.Table) {
			t.Columns = append(t.Columns, &schema.Column{Name: "score", Kind: schema.Float, Default: &schema.Default{Value: 1.5}})
			col(t, "qty").Kind = schema.Text
			col(t, "qty").Default = &schema.Default{Value: "5"}
			col(t, "note").Nullable = false
			col(t, "note").Default = &schema.Default{Value: "none"}
			t.Indexes = nil
		}, true},
	}
	for _, st := range steps {
		want := itemsV(st.mod)
		if st.destructive {
			live, err := migrate.Inspect(ctx, conn, h.DB.Dialect())
			if err != nil {
				t.Fatal(err)
			}
			err = migrate.Apply(ctx, conn, migrate.Diff(h.DB.Dialect(), want, live), migrate.ApplyOptions{})
			var de *migrate.DestructiveError
			if !errors.As(err, &de) || len(de.Changes) == 0 {
				t.Fatalf("%s: a destructive plan was not refused: %v", st.name, err)
			}
		}
		applyAndCheck(t, conn, want, st.destructive)
		if n := count(); n != 3 {
			t.Fatalf("%s: %d rows after the change, want 3", st.name, n)
		}
	}
	// A new table with a foreign key to the existing one, then dropped.
	withOwners := itemsV(func(t *schema.Table) {
		t.Columns = append(t.Columns, &schema.Column{Name: "score", Kind: schema.Float, Default: &schema.Default{Value: 1.5}},
			&schema.Column{Name: "owner_id", Kind: schema.Int64, Nullable: true})
		col(t, "qty").Kind = schema.Text
		col(t, "qty").Default = &schema.Default{Value: "5"}
		col(t, "note").Nullable = false
		col(t, "note").Default = &schema.Default{Value: "none"}
		t.Indexes = nil
		t.ForeignKeys = []*schema.ForeignKey{{Name: "items_owner_id_fkey", Columns: []string{"owner_id"}, RefTable: "owners", RefColumns: []string{"id"}, OnDelete: schema.SetNull}}
	})
	withOwners.Tables = append([]*schema.Table{{Name: "owners", PrimaryKey: []string{"id"}, Columns: []*schema.Column{
		{Name: "id", Kind: schema.ID, PrimaryKey: true, AutoIncrement: true},
		{Name: "name", Kind: schema.Text},
	}}}, withOwners.Tables...)
	applyAndCheck(t, conn, withOwners, false)
	if n := count(); n != 3 {
		t.Fatalf("%d rows after adding a foreign key, want 3", n)
	}
	back := itemsV(nil)
	applyAndCheck(t, conn, back, true)
	if n := count(); n != 3 {
		t.Fatalf("%d rows after dropping the referenced table, want 3", n)
	}
}

func testFailureLeavesNothing(t *testing.T, h *Harness) {
	ctx := context.Background()
	conn := h.DB.Driver()
	stmts := []string{
		`CREATE TABLE "fail_a" ("id" INTEGER PRIMARY KEY)`,
		`CREATE TABLE "fail_b" ("id" INTEGER PRIMARY KEY)`,
		`INSERT INTO "no_such_table" VALUES (1)`,
		`CREATE TABLE "fail_c" ("id" INTEGER PRIMARY KEY)`,
	}
	err := migrate.ApplyStatements(ctx, conn, stmts, migrate.StatementOptions{})
	var se *migrate.StatementError
	if !errors.As(err, &se) || se.Index != 2 || se.SQL != stmts[2] || !strings.Contains(err.Error(), "no_such_table") {
		t.Fatalf("want a StatementError naming the third statement, got %v", err)
	}
	live, err := migrate.Inspect(ctx, conn, h.DB.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	if !migrate.Atomic(h.DB.Dialect()) {
		resumeAfterFailure(t, h, stmts, se, live)
		return
	}
	for _, name := range []string{"fail_a", "fail_b", "fail_c"} {
		if live.Table(name) != nil {
			t.Errorf("table %s exists after a failed migration", name)
		}
	}
}

// resumeAfterFailure checks a failed plan on a database that commits DDL
// as it goes (MySQL): the statements before the failure are applied and
// said to be, and running the same statements again, once the cause is
// fixed, finishes the plan without repeating them (a repeated CREATE TABLE
// would fail).
func resumeAfterFailure(t *testing.T, h *Harness, stmts []string, se *migrate.StatementError, live *schema.Schema) {
	ctx := context.Background()
	conn := h.DB.Driver()
	if !se.Partial || !strings.Contains(se.Error(), "run again") {
		t.Errorf("the error does not say that the statements before it were applied: %v", se)
	}
	if live.Table("fail_a") == nil || live.Table("fail_b") == nil || live.Table("fail_c") != nil {
		t.Fatalf("after the failure: fail_a %v, fail_b %v, fail_c %v; want the first two only",
			live.Table("fail_a") != nil, live.Table("fail_b") != nil, live.Table("fail_c") != nil)
	}
	execAll(t, conn, `CREATE TABLE "no_such_table" ("id" INTEGER PRIMARY KEY)`)
	if err := migrate.ApplyStatements(ctx, conn, stmts, migrate.StatementOptions{}); err != nil {
		t.Fatalf("the second run did not finish the plan: %v", err)
	}
	rows, err := conn.Query(ctx, `SELECT COUNT(*) FROM "no_such_table"`, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if !rows.Next() || rows.Scan(&n) != nil || n != 1 {
		t.Errorf("no_such_table holds %d rows, want 1", n)
	}
	rows.Close()
	if live, err = migrate.Inspect(ctx, conn, h.DB.Dialect()); err != nil || live.Table("fail_c") == nil {
		t.Fatalf("fail_c missing after the second run (%v)", err)
	}
	rows, err = conn.Query(ctx, `SELECT COUNT(*) FROM "`+migrate.JournalTable+`"`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() || rows.Scan(&n) != nil || n != 0 {
		t.Errorf("the journal keeps %d rows after the plan finished, want 0", n)
	}
	rows.Close()
}

func testLock(t *testing.T, h *Harness) {
	ctx := context.Background()
	conn := h.DB.Driver()
	l1, err := migrate.AcquireLock(ctx, conn, migrate.LockOptions{Holder: "one"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = migrate.AcquireLock(ctx, conn, migrate.LockOptions{Holder: "two", Wait: -1})
	if !errors.Is(err, migrate.ErrLocked) {
		t.Fatalf("a second lock: %v, want ErrLocked", err)
	}
	// The error names the holder and its lease.
	var le *migrate.LockedError
	if !errors.As(err, &le) || le.Holder != "one" || time.Until(le.Expires) <= 0 || !strings.Contains(err.Error(), "one, whose lease runs until") {
		t.Errorf("the lock error does not name the holder and its lease: %v", err)
	}
	if err := l1.Release(ctx); err != nil {
		t.Fatal(err)
	}
	l2, err := migrate.AcquireLock(ctx, conn, migrate.LockOptions{Holder: "two", Wait: -1})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	_ = l2.Release(ctx)
	// A migrator that died holding the lock: its row expires.
	ph := func(n int) string { return string(h.DB.Dialect().AppendPlaceholder(nil, n)) }
	if _, err := conn.Exec(ctx, `INSERT INTO "forge_migrate_lock" ("id", "holder", "expires_at") VALUES (1, 'dead', `+ph(1)+`)`,
		[]any{time.Now().Add(300 * time.Millisecond).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.AcquireLock(ctx, conn, migrate.LockOptions{Holder: "three", Wait: -1}); !errors.Is(err, migrate.ErrLocked) {
		t.Fatalf("a live lock of a dead migrator: %v, want ErrLocked", err)
	}
	l3, err := migrate.AcquireLock(ctx, conn, migrate.LockOptions{Holder: "three", Wait: 5 * time.Second})
	if err != nil {
		t.Fatalf("the expired lock was not taken over: %v", err)
	}
	_ = l3.Release(ctx)
}

func testRacingPushers(t *testing.T, h *Harness) {
	ctx := context.Background()
	conn := h.DB.Driver()
	const n = 8
	var wg sync.WaitGroup
	plans := make([]*migrate.Plan, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			plans[i], errs[i] = migrate.Push(ctx, conn, Schema.Describe(), migrate.PushOptions{Lock: migrate.LockOptions{Holder: fmt.Sprint("pusher", i)}})
		}(i)
	}
	wg.Wait()
	applied := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Errorf("pusher %d: %v", i, errs[i])
			continue
		}
		if !plans[i].Empty() {
			applied++
		}
	}
	if applied != 1 {
		t.Errorf("%d pushers applied a plan, want exactly 1", applied)
	}
	plan, err := h.DB.Drift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Errorf("drift after racing pushers:\n%s", plan.Describe())
	}
}

// testDefaultsRoundTrip: a default of every kind, applied and inspected,
// shows no drift (databases re-write defaults in their own forms).
func testDefaultsRoundTrip(t *testing.T, h *Harness) {
	tm := time.Date(2020, 1, 2, 3, 4, 5, 500000000, time.FixedZone("x", 5*3600+1800))
	s := &schema.Schema{Tables: []*schema.Table{{Name: "defaults", PrimaryKey: []string{"id"}, Columns: []*schema.Column{
		{Name: "id", Kind: schema.TextID, PrimaryKey: true},
		{Name: "t", Kind: schema.Text, Default: &schema.Default{Value: "it's"}},
		{Name: "i", Kind: schema.Int64, Default: &schema.Default{Value: int64(-42)}},
		{Name: "i32", Kind: schema.Int32, Default: &schema.Default{Value: int32(7)}},
		{Name: "f", Kind: schema.Float, Default: &schema.Default{Value: 2.5}},
		{Name: "b", Kind: schema.Bool, Default: &schema.Default{Value: true}},
		{Name: "tm", Kind: schema.Time, Default: &schema.Default{Value: tm}},
		{Name: "now", Kind: schema.Time, Default: &schema.Default{Now: true}},
		{Name: "raw", Kind: schema.Bytes, Default: &schema.Default{Value: []byte{0xde, 0xad}}},
		{Name: "j", Kind: schema.JSON, Default: &schema.Default{Value: `{"a":[1,2]}`}},
		{Name: "n", Kind: schema.Text, Nullable: true},
	}}}}
	applyAndCheck(t, h.DB.Driver(), s, false)
	// The inspected schema, used as the desired one, shows no drift either
	// (what forge pull and down migrations rely on).
	live, err := migrate.Inspect(context.Background(), h.DB.Driver(), h.DB.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	if p := migrate.Diff(h.DB.Dialect(), live, live); !p.Empty() {
		t.Errorf("an inspected schema differs from itself:\n%s", p.Describe())
	}
	applyAndCheck(t, h.DB.Driver(), live, false)
	if c := live.Table("defaults").Column("now"); c.Default == nil || !c.Default.Now {
		t.Errorf("DefaultNow was not recognised on inspection: %+v", c.Default)
	}
}

// Models with generated names longer than PostgreSQL's 63 bytes, whose
// first 63 bytes are the same.
type longNamed struct {
	ID    int64
	Alpha string
	Beta  string
	Ref   *int64
}

const longTable = "a_table_whose_name_is_long_enough_to_crowd_the_identifier_limit"

var longModel = forge.Model(longTable, func(x *longNamed, f *forge.Fields) {
	f.ID(&x.ID)
	f.Text(&x.Alpha).Column("a_rather_long_column_name_number_one").Unique()
	f.Text(&x.Beta).Column("a_rather_long_column_name_number_two").Unique()
	f.NullInt(&x.Ref).Column("a_rather_long_reference_to_the_same_table").References(forge.Ref[longNamed]())
})

// testLongNames: long generated names fit the database and stay distinct;
// CreateSchema, Inspect and Diff agree on them, and both unique indexes
// exist.
func testLongNames(t *testing.T, h *Harness) {
	ctx := context.Background()
	s, err := forge.NewSchema(longModel)
	if err != nil {
		t.Fatal(err)
	}
	db, err := forge.Open(s, h.DB.Driver())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if plan, err := db.Drift(ctx); err != nil || !plan.Empty() {
		t.Fatalf("drift right after CreateSchema with long names (%v):\n%s", err, plan.Describe())
	}
	live, err := migrate.Inspect(ctx, db.Driver(), db.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	lt := live.Table(longTable)
	if lt == nil {
		t.Fatalf("table %s not found", longTable)
	}
	names := map[string]bool{}
	for _, ix := range lt.Indexes {
		if len(ix.Name) > 63 {
			t.Errorf("index name %q is longer than 63 bytes", ix.Name)
		}
		if ix.Unique {
			names[ix.Name] = true
		}
	}
	if len(names) != 2 {
		t.Fatalf("want two unique indexes, got %+v", lt.Indexes)
	}
	if len(lt.ForeignKeys) != 1 || len(lt.ForeignKeys[0].Name) > 63 {
		t.Errorf("foreign keys: %+v", lt.ForeignKeys)
	}
	// Both columns are unique: a duplicate in either is refused.
	ins := func(a, b string) error {
		_, err := db.Driver().Exec(ctx, `INSERT INTO "`+longTable+`" ("a_rather_long_column_name_number_one", "a_rather_long_column_name_number_two") VALUES ('`+a+`', '`+b+`')`, nil)
		return err
	}
	if err := ins("a1", "b1"); err != nil {
		t.Fatal(err)
	}
	if ins("a2", "b1") == nil {
		t.Error("a duplicate in the second unique column was accepted")
	}
	if ins("a1", "b2") == nil {
		t.Error("a duplicate in the first unique column was accepted")
	}
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatalf("CreateSchema again: %v", err)
	}
	// Replacing the primary key of a table whose name leaves no room for
	// "_pkey": the database's own name for the constraint is dropped.
	pkTable := func(pk ...string) *schema.Schema {
		return &schema.Schema{Tables: append(slices.Clone(s.Describe().Tables), &schema.Table{Name: "pk_" + longTable[3:], PrimaryKey: pk, Columns: []*schema.Column{
			{Name: "a", Kind: schema.Int64, PrimaryKey: slices.Contains(pk, "a")},
			{Name: "b", Kind: schema.Int64, PrimaryKey: slices.Contains(pk, "b")},
		}})}
	}
	applyAndCheck(t, db.Driver(), pkTable("a"), false)
	applyAndCheck(t, db.Driver(), pkTable("a", "b"), false)
}

// Models whose foreign keys form a cycle: accounts → teams → accounts.
type cycAccount struct {
	ID     int64
	TeamID *int64
}

type cycTeam struct {
	ID      int64
	OwnerID *int64
}

var (
	cycAccounts = forge.Model("cyc_accounts", func(x *cycAccount, f *forge.Fields) {
		f.ID(&x.ID)
		f.NullInt(&x.TeamID).References(forge.Ref[cycTeam]()).OnDelete(forge.SetNull)
	})
	cycTeams = forge.Model("cyc_teams", func(x *cycTeam, f *forge.Fields) {
		f.ID(&x.ID)
		f.NullInt(&x.OwnerID).References(forge.Ref[cycAccount]()).OnDelete(forge.SetNull)
	})
)

// testCreateSchemaCycle: CreateSchema runs twice on a schema whose foreign
// keys form a cycle, and leaves no drift.
func testCreateSchemaCycle(t *testing.T, h *Harness) {
	ctx := context.Background()
	s, err := forge.NewSchema(cycAccounts, cycTeams)
	if err != nil {
		t.Fatal(err)
	}
	db, err := forge.Open(s, h.DB.Driver())
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if err := db.CreateSchema(ctx); err != nil {
			t.Fatalf("CreateSchema run %d: %v", i, err)
		}
		if plan, err := db.Drift(ctx); err != nil || !plan.Empty() {
			t.Fatalf("drift after CreateSchema run %d (%v):\n%s", i, err, plan.Describe())
		}
	}
	live, err := migrate.Inspect(ctx, db.Driver(), db.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	if a, tm := live.Table("cyc_accounts"), live.Table("cyc_teams"); a == nil || tm == nil || len(a.ForeignKeys) != 1 || len(tm.ForeignKeys) != 1 {
		t.Fatalf("the cycle's foreign keys: %+v %+v", a, tm)
	}
}

// slowStep is a statement that slowConn turns into a pause inside the
// transaction, after the statements before it have run (so that the
// transaction holds its locks): a migration step that takes long, without
// burning CPU.
const slowStep = "-- forge test: slow step"

type slowConn struct {
	driver.Conn
	b       driver.Beginner
	pause   time.Duration
	reached chan struct{}
}

func (c *slowConn) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.b.Begin(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &slowTx{Tx: tx, c: c}, nil
}

// Exec pauses at the slow step outside a transaction too (MySQL applies a
// plan statement by statement).
func (c *slowConn) Exec(ctx context.Context, q string, args []any) (driver.Result, error) {
	if q == slowStep {
		close(c.reached)
		time.Sleep(c.pause)
		return driver.Result{}, nil
	}
	return c.Conn.Exec(ctx, q, args)
}

type slowTx struct {
	driver.Tx
	c *slowConn
}

func (t *slowTx) Exec(ctx context.Context, q string, args []any) (driver.Result, error) {
	if q == slowStep {
		close(t.c.reached)
		time.Sleep(t.c.pause)
		return driver.Result{}, nil
	}
	return t.Tx.Exec(ctx, q, args)
}

// testLockSlowStep: while a migration runs a step two or more times longer
// than the lock's TTL (and, on SQLite, longer than the driver's busy
// timeout), a second migrator waits for the lock instead of failing, gets
// it only after the first released it, and the first's lease is never
// taken (on PostgreSQL, never even seen expired) while it lives.
func testLockSlowStep(t *testing.T, h *Harness) {
	ctx := context.Background()
	conn := h.DB.Driver()
	b, ok := conn.(driver.Beginner)
	if !ok {
		t.Skipf("%s has no interactive transactions", driver.Name(conn))
	}
	ttl := 1500 * time.Millisecond
	pause := 3 * time.Second
	sqlite := h.DB.Dialect().Name() == "sqlite"
	if driver.Name(conn) == "sqlite" {
		// Longer than the embedded driver's 5 s busy_timeout. (sqld ends
		// an interactive transaction after 5 s of its own accord.)
		pause = 5500 * time.Millisecond
	}
	first, err := migrate.AcquireLock(ctx, conn, migrate.LockOptions{Holder: "first", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	sc := &slowConn{Conn: conn, b: b, pause: pause, reached: make(chan struct{})}
	applied := make(chan error, 1)
	go func() {
		applied <- migrate.ApplyStatements(ctx, sc, []string{`CREATE TABLE "slow_step" ("id" INTEGER PRIMARY KEY)`, slowStep}, migrate.StatementOptions{Lock: first})
	}()
	select {
	case <-sc.reached:
	case err := <-applied:
		t.Fatalf("the migration ended before its slow step: %v", err)
	}
	var released atomic.Bool
	type got struct {
		lock     *migrate.Lock
		err      error
		released bool
	}
	second := make(chan got, 1)
	go func() {
		l, err := migrate.AcquireLock(ctx, conn, migrate.LockOptions{Holder: "second", TTL: ttl, Wait: time.Minute})
		second <- got{l, err, released.Load()}
	}()
	// Watch the lock row while the first holds it.
	stop := make(chan struct{})
	watched := make(chan string, 1)
	go func() {
		for {
			select {
			case <-stop:
				watched <- ""
				return
			case <-time.After(100 * time.Millisecond):
			}
			rows, err := conn.Query(ctx, `SELECT "holder", "expires_at" FROM "forge_migrate_lock" WHERE "id" = 1`, nil)
			if err != nil {
				continue // SQLite may be busy; the next look will do
			}
			var holder string
			var exp int64
			found := rows.Next() && rows.Scan(&holder, &exp) == nil
			rows.Close()
			if released.Load() {
				continue
			}
			if !found || holder != "first" {
				watched <- fmt.Sprintf("the lock row shows holder %q (found %v) while the first migrator holds it", holder, found)
				return
			}
			// On PostgreSQL the heartbeat renews the lease beside the
			// migration's transaction. (On SQLite the transaction holds the
			// write lock, which keeps every other migrator out, and the
			// lease is renewed inside it before it commits.)
			if !sqlite && exp < time.Now().UnixMilli() {
				watched <- fmt.Sprintf("the first migrator's lease stood expired (%v ago) while it lived", time.Since(time.UnixMilli(exp)))
				return
			}
		}
	}()
	if err := <-applied; err != nil {
		t.Fatalf("the slow migration: %v", err)
	}
	released.Store(true)
	close(stop)
	if err := first.Release(ctx); err != nil {
		t.Errorf("the first migrator's release: %v", err)
	}
	if msg := <-watched; msg != "" {
		t.Error(msg)
	}
	g := <-second
	if g.err != nil {
		t.Fatalf("the second migrator did not wait for the lock: %v", g.err)
	}
	if !g.released {
		t.Error("the second migrator got the lock while the first held it")
	}
	if err := g.lock.Release(ctx); err != nil {
		t.Error(err)
	}
}

func execAll(t *testing.T, conn driver.Conn, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := conn.Exec(context.Background(), q, nil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// testDatabaseOwned: a generated column and a CHECK constraint that the
// model does not declare are read by Inspect and cause no drift.
func testDatabaseOwned(t *testing.T, h *Harness) {
	ctx := context.Background()
	conn := h.DB.Driver()
	switch h.DB.Dialect().Name() {
	case "postgres":
		execAll(t, conn, `CREATE TABLE "owned" ("id" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "price" bigint NOT NULL,
  "total" bigint GENERATED ALWAYS AS ("price" * 2) STORED, CONSTRAINT "owned_price_check" CHECK ("price" >= 0))`)
	case "mysql":
		execAll(t, conn, `CREATE TABLE "owned" ("id" BIGINT AUTO_INCREMENT PRIMARY KEY, "price" BIGINT NOT NULL,
  "total" BIGINT GENERATED ALWAYS AS ("price" * 2) STORED, CONSTRAINT "owned_price_check" CHECK ("price" >= 0))`)
	default:
		execAll(t, conn, `CREATE TABLE "owned" ("id" INTEGER PRIMARY KEY, "price" INTEGER NOT NULL,
  "total" INTEGER GENERATED ALWAYS AS ("price" * 2) VIRTUAL, CONSTRAINT "owned_price_check" CHECK ("price" >= 0)) STRICT`)
	}
	live, err := migrate.Inspect(ctx, conn, h.DB.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	lt := live.Table("owned")
	if c := lt.Column("total"); c == nil || !strings.Contains(c.Generated, "price") || c.Default != nil {
		t.Errorf("the generated column as inspected: %+v", c)
	}
	if len(lt.Checks) != 1 || lt.Checks[0].Name != "owned_price_check" || !strings.Contains(lt.Checks[0].Expr, "price") {
		t.Errorf("the CHECK constraints as inspected: %+v", lt.Checks)
	}
	want := &schema.Schema{Tables: []*schema.Table{{Name: "owned", PrimaryKey: []string{"id"}, Columns: []*schema.Column{
		{Name: "id", Kind: schema.ID, PrimaryKey: true, AutoIncrement: true},
		{Name: "price", Kind: schema.Int64},
	}}}}
	if p := migrate.Diff(h.DB.Dialect(), want, live); !p.Empty() {
		t.Errorf("drift for what the database owns:\n%s", p.Describe())
	}
	// The inspected schema, created anew, has them too.
	if p := migrate.Diff(h.DB.Dialect(), live, live); !p.Empty() {
		t.Errorf("an inspected schema differs from itself:\n%s", p.Describe())
	}
	stmts, err := migrate.Create(h.DB.Dialect(), &schema.Schema{Tables: []*schema.Table{lt}}, migrate.Options{}).Statements(h.DB.Dialect())
	ck := "CONSTRAINT " + string(h.DB.Dialect().AppendIdent(nil, "owned_price_check")) + " CHECK"
	if err != nil || !strings.Contains(stmts[0], "GENERATED ALWAYS AS") || !strings.Contains(stmts[0], ck) {
		t.Errorf("CREATE TABLE from the inspected table (%v): %s", err, stmts)
	}
}

// testRebuildKeeps: a SQLite table rebuild keeps the table's triggers,
// CHECK constraints, generated column, AUTOINCREMENT and collation, and the
// views over it; it refuses, naming them, to drop a column they use; a
// lossy type change names the column and both types.
func testRebuildKeeps(t *testing.T, h *Harness) {
	if h.DB.Dialect().Name() != "sqlite" {
		t.Skip("table rebuilds are SQLite's")
	}
	ctx := context.Background()
	conn := h.DB.Driver()
	d := h.DB.Dialect()
	execAll(t, conn,
		`CREATE TABLE "rb_log" ("id" INTEGER PRIMARY KEY, "msg" TEXT NOT NULL)`,
		`CREATE TABLE "rb_users" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL COLLATE NOCASE,
  "age" INTEGER NOT NULL CHECK ("age" >= 0), "old" TEXT,
  "name_len" INTEGER GENERATED ALWAYS AS (length("name")) VIRTUAL,
  CONSTRAINT "rb_users_name_nonempty" CHECK ("name" <> ''))`,
		`CREATE TRIGGER "rb_users_ai" AFTER INSERT ON "rb_users" BEGIN INSERT INTO "rb_log" ("msg") VALUES ('added ' || NEW."name"); END`,
		`CREATE VIEW "rb_adults" AS SELECT "id", "name" FROM "rb_users" WHERE "age" >= 18`,
		`INSERT INTO "rb_users" ("name", "age") VALUES ('alice', 30), ('bob', 10), ('carol', 40)`,
		`DELETE FROM "rb_users" WHERE "name" = 'carol'`,
	)
	users := func(mod func(t *schema.Table)) *schema.Schema {
		u := &schema.Table{Name: "rb_users", PrimaryKey: []string{"id"}, Columns: []*schema.Column{
			{Name: "id", Kind: schema.ID, PrimaryKey: true, AutoIncrement: true},
			{Name: "name", Kind: schema.Text},
			{Name: "age", Kind: schema.Int64},
			{Name: "old", Kind: schema.Text, Nullable: true},
			{Name: "tier", Kind: schema.Text, Default: &schema.Default{Value: "free"}},
		}}
		if mod != nil {
			mod(u)
		}
		return &schema.Schema{Tables: []*schema.Table{{Name: "rb_log", PrimaryKey: []string{"id"}, Columns: []*schema.Column{
			{Name: "id", Kind: schema.ID, PrimaryKey: true, AutoIncrement: true},
			{Name: "msg", Kind: schema.Text},
		}}, u}}
	}
	plan := applyAndCheck(t, conn, users(nil), false)
	desc := plan.Describe()
	for _, w := range []string{"rebuild table rb_users", "+tier", "trigger rb_users_ai", "CHECK rb_users_name_nonempty", "CHECK rb_users_age_check", "generated column name_len", "AUTOINCREMENT of id"} {
		if !strings.Contains(desc, w) {
			t.Errorf("the plan does not say %q:\n%s", w, desc)
		}
	}
	one := func(q string) any {
		t.Helper()
		rows, err := queryRows(ctx, conn, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows", q, len(rows))
		}
		return rows[0][0]
	}
	// The trigger fires, the CHECKs refuse, the view answers, the
	// collation and generated column hold, ids are not reused.
	execAll(t, conn, `INSERT INTO "rb_users" ("name", "age") VALUES ('dave', 50)`)
	if n := one(`SELECT COUNT(*) FROM "rb_log" WHERE "msg" = 'added dave'`); n != int64(1) {
		t.Errorf("the trigger did not fire after the rebuild: %v", n)
	}
	for _, bad := range []string{`INSERT INTO "rb_users" ("name", "age") VALUES ('eve', -1)`, `INSERT INTO "rb_users" ("name", "age") VALUES ('', 5)`} {
		if _, err := conn.Exec(ctx, bad, nil); err == nil {
			t.Errorf("a CHECK was lost in the rebuild: %s was accepted", bad)
		}
	}
	if n := one(`SELECT COUNT(*) FROM "rb_adults"`); n != int64(2) {
		t.Errorf("the view after the rebuild: %v adults, want 2", n)
	}
	if n := one(`SELECT "name_len" FROM "rb_users" WHERE "name" = 'ALICE'`); n != int64(5) {
		t.Errorf("the collation or generated column after the rebuild: %v", n)
	}
	if id := one(`SELECT "id" FROM "rb_users" WHERE "name" = 'dave'`); id != int64(4) {
		t.Errorf("dave got id %v; AUTOINCREMENT must not reuse carol's 3", id)
	}
	// Dropping "age", which a CHECK and the view use: refused, named.
	err := migrate.Apply(ctx, conn, diffLive(t, conn, d, users(func(u *schema.Table) { u.Columns = slices.Delete(u.Columns, 2, 3) })), migrate.ApplyOptions{AllowDestructive: true})
	if err == nil || !strings.Contains(err.Error(), "rb_users_age_check") || !strings.Contains(err.Error(), "view rb_adults") || !strings.Contains(err.Error(), "nothing was applied") {
		t.Errorf("dropping a column a CHECK and a view use: %v", err)
	}
	if c := one(`SELECT COUNT(*) FROM pragma_table_info('rb_users') WHERE "name" = 'age'`); c != int64(1) {
		t.Error("the refused rebuild dropped the column")
	}
	// A lossy type change names the column and both types.
	err = migrate.Apply(ctx, conn, diffLive(t, conn, d, users(func(u *schema.Table) { u.Column("old").Kind = schema.Int64 })), migrate.ApplyOptions{})
	var de *migrate.DestructiveError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "column old TEXT → INTEGER can lose data") {
		t.Errorf("a lossy type change: %v", err)
	}
}

func diffLive(t *testing.T, conn driver.Conn, d dialect.Dialect, want *schema.Schema) *migrate.Plan {
	t.Helper()
	live, err := migrate.Inspect(context.Background(), conn, d)
	if err != nil {
		t.Fatal(err)
	}
	return migrate.Diff(d, want, live)
}

func queryRows(ctx context.Context, conn driver.Conn, q string) ([][]any, error) {
	rows, err := conn.Query(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v := make([]any, len(rows.Columns()))
		p := make([]any, len(v))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
