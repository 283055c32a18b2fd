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
// itself: reads go to the replica once it has the DB's writes (its
// replication index), to the primary when it lags behind what a token asks
// for.
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
	// Each write is read back at once, from whichever server has it.
	for i := range 5 {
		email := "u" + strconv.Itoa(i) + "@x"
		if _, err := forgetest.Users.Create(ctx, db, forgetest.User{Email: email, Name: "n"}); err != nil {
			t.Fatal(err)
		}
		u := forgetest.Users.Cols()
		if _, err := forgetest.Users.FindUnique(ctx, db, forge.Eq(&u.Email, email)); err != nil {
			t.Fatalf("read after write %d: %v", i, err)
		}
	}
	// Once the replica has replicated, reads go there (bounded wait).
	for i := 0; ; i++ {
		r0, p0 := reads(r), reads(p)
		n, err := forgetest.Users.Count(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if reads(r) == r0+1 && reads(p) == p0 {
			if n != 5 {
				t.Fatalf("the replica counts %d users, want 5", n)
			}
			break
		}
		if i == 200 {
			t.Fatal("reads never went to the replica")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A token the replica has not reached sends the read to the primary.
	tok := db.Token()
	n, _ := strconv.ParseUint(string(tok), 10, 64)
	ahead := forge.ReadAfter(ctx, forge.Token(strconv.FormatUint(n+1000, 10)))
	r0, p0 := reads(r), reads(p)
	if _, err := forgetest.Users.Count(ahead, db); err != nil {
		t.Fatal(err)
	}
	if reads(p) != p0+1 || reads(r) != r0 {
		t.Errorf("a read the replica cannot serve went to the replica")
	}
}
