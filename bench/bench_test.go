package bench

import (
	"context"
	"errors"
	"os"
	"testing"
)

// BenchmarkORM runs every operation of every library, named
// db/op/library: BenchmarkORM/pg/read-one/forge. Each process prepares
// its databases afresh (new tables, the same seed) when it first runs a
// library on them, so a benchmark of one library, as ./run does, starts
// from the same state as any other.
//
// Besides time and allocations, each benchmark reports cpu-ns/op: the CPU
// time the process (the library, its driver, the garbage collector) used
// per operation, which neither the database server nor the round trip
// inflate.
//
// PostgreSQL: FORGE_BENCH_PG_DSN, else FORGE_TEST_PG_DSN; without either
// the pg benchmarks are skipped (with CI=true they fail). MySQL or MariaDB:
// FORGE_BENCH_MYSQL_DSN, else FORGE_TEST_MYSQL_DSN, likewise.
func BenchmarkORM(b *testing.B) {
	ctx := context.Background()
	for _, db := range []string{Postgres, SQLite, MySQL} {
		b.Run(db, func(b *testing.B) {
			dir := b.TempDir()
			var env *Env
			prepare := func(b *testing.B) *Env {
				if env != nil {
					return env
				}
				var err error
				switch db {
				case Postgres:
					env, err = PreparePG(ctx, pgDSN(b))
				case MySQL:
					env, err = PrepareMySQL(ctx, mysqlDSN(b))
				default:
					env, err = PrepareSQLite(ctx, dir)
				}
				if err != nil {
					b.Fatal(err)
				}
				return env
			}
			libs := map[string]Lib{}
			b.Cleanup(func() {
				for _, l := range libs {
					l.Close()
				}
			})
			for _, op := range Ops {
				b.Run(op.Name, func(b *testing.B) {
					for _, spec := range SpecsFor(db) {
						b.Run(spec.Name, func(b *testing.B) {
							l, ok := libs[spec.Name]
							if !ok {
								var err error
								if l, err = spec.Open(ctx, prepare(b)); err != nil {
									b.Fatalf("opening %s: %v", spec.Name, err)
								}
								libs[spec.Name] = l
							}
							// Probe once outside the timer: skips what the
							// library does not have, and fails fast.
							if err := op.Run(l, ctx, 0); errors.Is(err, ErrNotApplicable) {
								b.Skip(err)
							} else if err != nil {
								b.Fatal(err)
							}
							b.ReportAllocs()
							cpu0 := cpuTime()
							b.ResetTimer()
							for i := 1; i <= b.N; i++ {
								if err := op.Run(l, ctx, i); err != nil {
									b.Fatal(err)
								}
							}
							b.StopTimer()
							if cpu1 := cpuTime(); cpu0 >= 0 && cpu1 >= 0 {
								b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
							}
						})
					}
				})
			}
		})
	}
}

// pgDSN returns the PostgreSQL to use, or skips (fails with CI=true).
func pgDSN(tb testing.TB) string {
	tb.Helper()
	dsn := PGDSN()
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("CI=true but neither FORGE_BENCH_PG_DSN nor FORGE_TEST_PG_DSN is set")
		}
		tb.Skip("PostgreSQL: set FORGE_BENCH_PG_DSN or FORGE_TEST_PG_DSN")
	}
	return dsn
}

// mysqlDSN returns the MySQL or MariaDB to use, or skips (fails with
// CI=true).
func mysqlDSN(tb testing.TB) string {
	tb.Helper()
	dsn := MySQLDSN()
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("CI=true but neither FORGE_BENCH_MYSQL_DSN nor FORGE_TEST_MYSQL_DSN is set")
		}
		tb.Skip("MySQL/MariaDB: set FORGE_BENCH_MYSQL_DSN or FORGE_TEST_MYSQL_DSN (e.g. root@tcp(127.0.0.1:3306)/forge_bench)")
	}
	return dsn
}
