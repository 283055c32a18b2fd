package libsql_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/internal/testsvc"
)

// reads counts the requests that read the users table.
func reads(r *recorder) int {
	n := 0
	for _, b := range r.bodies() {
		if strings.Contains(b, "SELECT") && strings.Contains(b, `\"users\"`) {
			n++
		}
	}
	return n
}

// WithReplicas over two sqld, a primary and a replica that sqld replicates
// itself. A sqld replica's replication index runs ahead of what its reads
// return (see forge.WithReplicas), so reads that need a write go to the
// primary and the others to the replica.
func TestReplicas(t *testing.T) {
	ctx := context.Background()
	purl, rurl := testsvc.SQLDReplicated(t)
	p := &recorder{inner: nethttp.New(nil)}
	r := &recorder{inner: nethttp.New(nil)}
	primary, replica := openFetch(t, purl, p.fetch), openFetch(t, rurl, r.fetch)
	db, err := forge.Open(forgetest.Schema, primary, forge.WithReplicas(replica))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	// Each write is read back at once: from the primary.
	u := forgetest.Users.Cols()
	for i := range 5 {
		email := "u" + strconv.Itoa(i) + "@x"
		if _, err := forgetest.Users.Create(ctx, db, forgetest.User{Email: email, Name: "n"}); err != nil {
			t.Fatal(err)
		}
		if _, err := forgetest.Users.FindUnique(ctx, db, forge.Eq(&u.Email, email)); err != nil {
			t.Fatalf("read after write %d: %v", i, err)
		}
	}
	if n := reads(r); n != 0 {
		t.Errorf("%d reads that needed a write went to the replica", n)
	}
	if db.Token() == "" {
		t.Fatal("no token after a write")
	}
	// A DB that wrote nothing reads the replica, which catches up (bounded
	// wait).
	reader, err := forge.Open(forgetest.Schema, primary, forge.WithReplicas(replica))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		p0 := reads(p)
		n, err := forgetest.Users.Count(ctx, reader)
		if err != nil && !strings.Contains(err.Error(), "no such table") {
			t.Fatal(err)
		}
		if reads(p) != p0 {
			t.Fatal("a read that needs no write went to the primary")
		}
		if n == 5 {
			break
		}
		if i == 200 {
			t.Fatalf("the replica never caught up (%d users)", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// With the writer's token, its reads go to the primary.
	r0, p0 := reads(r), reads(p)
	if n, err := forgetest.Users.Count(forge.ReadAfter(ctx, db.Token()), reader); err != nil || n != 5 {
		t.Fatalf("read with the token: %d, %v", n, err)
	}
	if reads(p) != p0+1 || reads(r) != r0 {
		t.Errorf("a read with a token went to the replica")
	}
}
