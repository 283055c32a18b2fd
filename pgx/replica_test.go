package pgx_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/fakedriver"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/pgx"
	"github.com/jackc/pgx/v5/pgxpool"
)

// replicaDSN returns the streaming replica of the test server. The test
// command (./scripts/test) starts one with pg_basebackup from its private
// PostgreSQL and sets it.
func replicaDSN(t testing.TB) string {
	d := os.Getenv("FORGE_TEST_PG_REPLICA_DSN")
	if d == "" {
		forgetest.RequireService(t, "a PostgreSQL streaming replica (FORGE_TEST_PG_REPLICA_DSN)")
	}
	return d
}

// logged is a pgx driver that records the SQL it is asked to run.
type logged struct {
	*pgx.Conn
	mu  sync.Mutex
	sql []string
}

func (c *logged) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	c.mu.Lock()
	c.sql = append(c.sql, sql)
	c.mu.Unlock()
	return c.Conn.Query(ctx, sql, args)
}

// selects counts the statements that read the users table (not the
// position probes).
func (c *logged) selects() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.sql {
		if strings.HasPrefix(s, "SELECT") && strings.Contains(s, `"users"`) {
			n++
		}
	}
	return n
}

func openPool(t testing.TB, dsn, schema string) *pgx.Conn {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pgx.New(pool)
}

// TestReplicas proves the routing of WithReplicas and read-your-writes
// against a real streaming replica, with replication lag made
// deterministic by pausing the replica's replay.
func TestReplicas(t *testing.T) {
	ctx := context.Background()
	pdsn, rdsn := dsn(t), replicaDSN(t)
	schema := fmt.Sprintf("forgerepl_%d", time.Now().UnixNano())
	admin := openPool(t, pdsn, "public")
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE", nil) })
	radmin := openPool(t, rdsn, "public")
	var inRecovery bool
	if err := radmin.Pool().QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil {
		t.Fatal(err)
	}
	if !inRecovery {
		t.Fatal("FORGE_TEST_PG_REPLICA_DSN is not a standby (pg_is_in_recovery() is false)")
	}
	resume := func() {
		if _, err := radmin.Exec(context.Background(), "SELECT pg_wal_replay_resume()", nil); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(resume)

	primary := &logged{Conn: openPool(t, pdsn, schema)}
	replica := &logged{Conn: openPool(t, rdsn, schema)}
	db, err := forge.Open(forgetest.Schema, primary, forge.WithReplicas(replica))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	u := forgetest.Users.Cols()
	emails := func(us []forgetest.User) string {
		var s []string
		for _, x := range us {
			s = append(s, x.Email)
		}
		return strings.Join(s, ",")
	}

	// A write, then a read through the same DB: it waits for nothing (the
	// replica is asked for its position and has applied the write, or the
	// read goes to the primary), and it sees the write.
	if _, err := forgetest.Users.Create(ctx, db, forgetest.User{Email: "a@x", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if got, err := forgetest.Users.FindMany(ctx, db, forge.OrderBy(&u.ID, forge.Asc)); err != nil || emails(got) != "a@x" {
		t.Fatalf("read after write: %q, %v", emails(got), err)
	}
	// Wait until the replica has applied it (bounded), then reads go there.
	for i := 0; ; i++ {
		p0, r0 := primary.selects(), replica.selects()
		if _, err := forgetest.Users.Count(ctx, db); err != nil {
			t.Fatal(err)
		}
		if replica.selects() == r0+1 && primary.selects() == p0 {
			break
		}
		if i == 200 {
			t.Fatal("reads never went to the caught-up replica")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Lag: the replica stops replaying; a write is on the primary only.
	if _, err := radmin.Exec(ctx, "SELECT pg_wal_replay_pause()", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := forgetest.Users.Create(ctx, db, forgetest.User{Email: "b@x", Name: "b"}); err != nil {
		t.Fatal(err)
	}
	// The writer reads its write: from the primary, as the replica is behind.
	p0, r0 := primary.selects(), replica.selects()
	if got, err := forgetest.Users.FindMany(ctx, db, forge.OrderBy(&u.ID, forge.Asc)); err != nil || emails(got) != "a@x,b@x" {
		t.Fatalf("read your write under lag: %q, %v", emails(got), err)
	}
	if primary.selects() != p0+1 || replica.selects() != r0 {
		t.Errorf("the read under lag went to the replica (primary %d→%d, replica %d→%d)", p0, primary.selects(), r0, replica.selects())
	}
	// Another caller (a DB that wrote nothing) reads the lagging replica:
	// the lag is real.
	other, err := forge.Open(forgetest.Schema, primary, forge.WithReplicas(replica))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := forgetest.Users.FindMany(ctx, other, forge.OrderBy(&u.ID, forge.Asc)); err != nil || emails(got) != "a@x" {
		t.Fatalf("a reader without the token: %q, %v (want the replica's a@x)", emails(got), err)
	}
	// With the writer's token (a cookie, say) it reads the write.
	tok := db.Token()
	if tok == "" {
		t.Fatal("no token after a write")
	}
	actx := forge.ReadAfter(ctx, tok)
	if got, err := forgetest.Users.FindMany(actx, other, forge.OrderBy(&u.ID, forge.Asc)); err != nil || emails(got) != "a@x,b@x" {
		t.Fatalf("a reader with the token: %q, %v", emails(got), err)
	}
	// Primary forces the primary.
	p0 = primary.selects()
	if n, err := forgetest.Users.Count(forge.Primary(ctx), other); err != nil || n != 2 || primary.selects() != p0+1 {
		t.Fatalf("Primary: %d, %v", n, err)
	}
	// A transaction reads on the primary.
	err = other.Transaction(ctx, func(tx *forge.Tx) error {
		n, err := forgetest.Users.Count(ctx, tx)
		if err == nil && n != 2 {
			err = fmt.Errorf("count %d in a transaction, want 2", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// Replay resumes: once the replica has the write, the token's reads go
	// to it (bounded wait).
	resume()
	for i := 0; ; i++ {
		r0 := replica.selects()
		got, err := forgetest.Users.FindMany(actx, other, forge.OrderBy(&u.ID, forge.Asc))
		if err != nil || emails(got) != "a@x,b@x" {
			t.Fatalf("after resume: %q, %v", emails(got), err)
		}
		if replica.selects() == r0+1 {
			break
		}
		if i == 200 {
			t.Fatal("reads never went back to the replica after it caught up")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Under live replication, every write is read back at once, by the
	// writer and by a reader holding its token, from whichever server the
	// positions allow; some reads reach the replica.
	r0 = replica.selects()
	for i := range 100 {
		email := fmt.Sprintf("live%d@x", i)
		if _, err := forgetest.Users.Create(ctx, db, forgetest.User{Email: email, Name: "live"}); err != nil {
			t.Fatal(err)
		}
		if _, err := forgetest.Users.FindUnique(ctx, db, forge.Eq(&u.Email, email)); err != nil {
			t.Fatalf("live write %d, read by the writer: %v", i, err)
		}
		if _, err := forgetest.Users.FindUnique(forge.ReadAfter(ctx, db.Token()), other, forge.Eq(&u.Email, email)); err != nil {
			t.Fatalf("live write %d, read with the token: %v", i, err)
		}
	}
	t.Logf("under live replication, %d of 200 reads after a write went to the replica", replica.selects()-r0)

	// Open refuses a replica of another dialect.
	if _, err := forge.Open(forgetest.Schema, primary, forge.WithReplicas(fakedriver.New(dialect.SQLite, 0).Conn())); err == nil {
		t.Error("Open accepted a SQLite replica of a PostgreSQL primary")
	}
}
