package forge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/fakedriver"
)

// findingIDs lists findings as "severity id".
func findingIDs(fs []forge.Finding) string {
	var s []string
	for _, f := range fs {
		if f.Message == "" || f.Fix == "" || strings.Contains(f.Message, "\n") {
			s = append(s, "malformed:"+f.String())
			continue
		}
		s = append(s, f.Severity.String()+" "+f.ID)
	}
	return strings.Join(s, ", ")
}

// TestDoctorCapabilities checks the driver findings for each set of
// capabilities, with and without UsesTransactions, on a database that
// answers (drift is checked against real databases in cmd/forge).
func TestDoctorCapabilities(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		caps      fakedriver.Caps
		uses, not string
	}{
		{fakedriver.All, "", ""},
		{fakedriver.Transactions, "", ""},
		{fakedriver.Batches | fakedriver.Named, "error driver.transactions", "info driver.transactions"},
		{fakedriver.None, "error driver.atomic", "warning driver.atomic"},
	} {
		f := fakedriver.New(dialect.SQLite, c.caps)
		f.On(fakedriver.Exact("SELECT 1")).Rows([]string{"1"}, []any{int64(1)})
		if got := findingIDs(forge.DoctorConn(ctx, f.Conn(), dialect.SQLite, nil, forge.UsesTransactions())); got != c.uses {
			t.Errorf("caps %b, UsesTransactions: %q, want %q", c.caps, got, c.uses)
		}
		if got := findingIDs(forge.DoctorConn(ctx, f.Conn(), dialect.SQLite, nil)); got != c.not {
			t.Errorf("caps %b: %q, want %q", c.caps, got, c.not)
		}
	}
	f := fakedriver.New(dialect.SQLite, fakedriver.Batches|fakedriver.Named)
	f.On(fakedriver.Exact("SELECT 1")).Rows([]string{"1"}, []any{int64(1)})
	fs := forge.DoctorConn(ctx, f.Conn(), dialect.SQLite, nil, forge.UsesTransactions())
	if len(fs) != 1 || !strings.Contains(fs[0].Fix, "db.Batch") || !strings.Contains(fs[0].Message, "fake driver") {
		t.Errorf("the transactions finding does not name the driver and db.Batch: %v", fs)
	}
}

// TestDoctorUnreachable checks that a database that does not answer is one
// error finding carrying the driver's error, and that nothing else is
// checked then.
func TestDoctorUnreachable(t *testing.T) {
	f := fakedriver.New(dialect.Postgres, fakedriver.None)
	f.On(fakedriver.Any()).Err(errors.New("dial tcp 127.0.0.1:1: connection\nrefused"))
	fs := forge.DoctorConn(context.Background(), f.Conn(), dialect.Postgres, fakeSchema.Describe())
	if got := findingIDs(fs); got != "error db.unreachable" {
		t.Fatalf("findings %q, want only db.unreachable", got)
	}
	if !strings.Contains(fs[0].Message, "connection refused") || fs[0].Severity != forge.Error {
		t.Errorf("finding: %v", fs[0])
	}
	if got := findingIDs(forge.Doctor(context.Background(), nil)); got != "error db.unreachable" {
		t.Errorf("Doctor(nil): %q", got)
	}
}

// A program that uses db.Transaction checks its driver at start: here a
// driver with atomic batches only, as D1 and Neon over HTTP are.
func ExampleDoctor() {
	f := fakedriver.New(dialect.Postgres, fakedriver.Batches|fakedriver.Named)
	f.On(fakedriver.Exact("SELECT 1")).Rows([]string{"?column?"}, []any{int64(1)})
	for _, finding := range forge.DoctorConn(context.Background(), f.Conn(), dialect.Postgres, nil, forge.UsesTransactions()) {
		fmt.Println(finding.Severity, finding.ID)
		fmt.Println(finding.Fix)
	}
	// Output:
	// error driver.transactions
	// replace db.Transaction with db.Batch (all or nothing, one round trip), reading before the batch; or use a driver with transactions (libsql, planetscale, pgx, Hyperdrive)
}
