package bench

import (
	"context"
	"database/sql"
	"errors"
	"testing"
)

// TestLibrariesSQLite runs every library's operations a few times on
// SQLite, checks every result (each operation checks its own), and then
// reads back with plain SQL what the writes stored.
func TestLibrariesSQLite(t *testing.T) {
	env, err := PrepareSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testLibraries(t, env)
}

// TestLibrariesPostgres does the same on PostgreSQL (FORGE_BENCH_PG_DSN or
// FORGE_TEST_PG_DSN; skipped without, failing with CI=true).
func TestLibrariesPostgres(t *testing.T) {
	env, err := PreparePG(context.Background(), pgDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	testLibraries(t, env)
}

// TestLibrariesMySQL does the same on MySQL or MariaDB
// (FORGE_BENCH_MYSQL_DSN or FORGE_TEST_MYSQL_DSN; skipped without, failing
// with CI=true).
func TestLibrariesMySQL(t *testing.T) {
	env, err := PrepareMySQL(context.Background(), mysqlDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	testLibraries(t, env)
}

const testIterations = 3

func testLibraries(t *testing.T, env *Env) {
	ctx := context.Background()
	check, err := openSQLDB(env)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	for _, spec := range SpecsFor(env.DB) {
		t.Run(spec.Name, func(t *testing.T) {
			before := maxUserID(t, check)
			resetUpdateTargets(t, check, env.DB == Postgres)
			l, err := spec.Open(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			many := true // insert-100 applies (not to sqlc on MySQL)
			for _, op := range Ops {
				for i := 0; i < testIterations; i++ {
					err := op.Run(l, ctx, i)
					if errors.Is(err, ErrNotApplicable) {
						t.Logf("%s: %v", op.Name, err)
						many = many && op.Name != "insert-100"
						break
					}
					if err != nil {
						t.Fatalf("%s (iteration %d): %v", op.Name, i, err)
					}
				}
			}
			verifyWrites(t, check, env.DB == Postgres, before, many)
		})
	}
}

func maxUserID(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	var id int64
	if err := db.QueryRow("SELECT max(id) FROM bench_users").Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// resetUpdateTargets gives the update targets of the test's iterations
// their seeded values back, so that each library's update shows.
func resetUpdateTargets(t *testing.T, db *sql.DB, pg bool) {
	t.Helper()
	q := "UPDATE bench_users SET city = ?, balance = ? WHERE id = ?"
	if pg {
		q = "UPDATE bench_users SET city = $1, balance = $2 WHERE id = $3"
	}
	for i := 0; i < testIterations; i++ {
		id, _, _ := UpdateTarget(i)
		u := SeedUser(id)
		if _, err := db.Exec(q, u.City, u.Balance, id); err != nil {
			t.Fatal(err)
		}
	}
}

// verifyWrites reads back, with plain SQL, the rows the library inserted
// after id before (insert-one, then insert-100 when many, testIterations
// times each) and the rows it updated, every column.
func verifyWrites(t *testing.T, db *sql.DB, pg bool, before int64, many bool) {
	t.Helper()
	q := "SELECT " + userCols + " FROM bench_users WHERE id > ? ORDER BY id"
	if pg {
		q = "SELECT " + userCols + " FROM bench_users WHERE id > $1 ORDER BY id"
	}
	rows, err := db.Query(q, before)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []Row
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// insert-one's probe is iteration 0; then insert-100, each iteration.
	var want []Row
	for i := 0; i < testIterations; i++ {
		want = append(want, *NewUser(i))
	}
	for i := 0; i < testIterations && many; i++ {
		want = append(want, NewUsers()...)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows inserted, want %d", len(got), len(want))
	}
	for k := range got {
		w := want[k]
		w.ID = got[k].ID
		if got[k] != w {
			t.Fatalf("inserted row %d: got %+v, want %+v", k, got[k], w)
		}
	}
	g := "SELECT city, balance FROM bench_users WHERE id = ?"
	if pg {
		g = "SELECT city, balance FROM bench_users WHERE id = $1"
	}
	for i := 0; i < testIterations; i++ {
		id, city, balance := UpdateTarget(i)
		var c string
		var b int64
		if err := db.QueryRow(g, id).Scan(&c, &b); err != nil {
			t.Fatal(err)
		}
		if c != city || b != balance {
			t.Errorf("user %d after update %d: city %q balance %d, want %q %d", id, i, c, b, city, balance)
		}
	}
}
