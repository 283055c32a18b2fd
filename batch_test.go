package forge_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/fakedriver"
)

// Ticket's text id comes from a generator that counts its calls.
type Ticket struct {
	ID    string
	Title string
}

var (
	ticketIDs atomic.Int64
	Tickets   = forge.Model("tickets", func(t *Ticket, f *forge.Fields) {
		f.TextID(&t.ID).Generate(func() string { return "t" + string(rune('0'+ticketIDs.Add(1))) })
		f.Text(&t.Title)
	})
	ticketSchema = forge.MustSchema(Tickets)
)

// Batch builds each op once, whatever the driver runs it with, and refuses
// an op on a model outside the DB's schema before anything runs.
func TestBatchBuildsOnceAndChecksTheSchema(t *testing.T) {
	for _, caps := range []fakedriver.Caps{fakedriver.Transactions, fakedriver.Batches, fakedriver.All} {
		f := fakedriver.New(dialect.SQLite, caps)
		db, err := forge.Open(ticketSchema, f.Conn())
		if err != nil {
			t.Fatal(err)
		}
		f.On(nil).Affected(1)
		before := ticketIDs.Load()
		if _, err := db.Batch(tctx, Tickets.CreateOp(Ticket{Title: "a"}), Tickets.CreateOp(Ticket{Title: "b"})); err != nil {
			t.Fatalf("caps %b: %v", caps, err)
		}
		if n := ticketIDs.Load() - before; n != 2 {
			t.Errorf("caps %b: the id generator ran %d times for 2 ops", caps, n)
		}
		f.Reset()
		f.On(nil).Affected(1)
		_, err = db.Batch(tctx, Tickets.CreateOp(Ticket{Title: "c"}), Accounts.CreateOp(Account{Email: "x"}))
		var qe *forge.QueryError
		if !errors.As(err, &qe) || !strings.Contains(err.Error(), "not part of this DB's schema") {
			t.Errorf("caps %b: an op outside the schema: %v", caps, err)
		}
		if n := len(f.Statements()); n != 0 {
			t.Errorf("caps %b: %d statements sent for a refused batch", caps, n)
		}
	}
}

// TestIncludeAllocations bounds the allocations of the include path on an
// in-memory driver (2 accounts, 2 orders): FindMany with Include minus
// FindMany alone. It was 19 before the include held its relation and built
// its IN from typed keys.
func TestIncludeAllocations(t *testing.T) {
	db, err := forge.Open(testSchema, newTableConn())
	if err != nil {
		t.Fatal(err)
	}
	c := Accounts.Cols()
	plain := testing.AllocsPerRun(200, func() { _, _ = Accounts.FindMany(tctx, db) })
	with := testing.AllocsPerRun(200, func() { _, _ = Accounts.FindMany(tctx, db, forge.Include(&c.Orders)) })
	t.Logf("FindMany %v allocations, with Include %v: the include takes %v", plain, with, with-plain)
	if with-plain > 9 {
		t.Errorf("the include path allocates %v times; the budget is 9 (half of the 19 it took)", with-plain)
	}
}

// Aggregate with a nil describe function is a QueryError, not a panic.
func TestAggregateNilDescribe(t *testing.T) {
	db, err := forge.Open(testSchema, newTableConn())
	if err != nil {
		t.Fatal(err)
	}
	type counts struct{ N int64 }
	var qe *forge.QueryError
	if _, err := forge.Aggregate[counts](tctx, db, Accounts, nil); !errors.As(err, &qe) {
		t.Errorf("nil describe: %v", err)
	}
}
