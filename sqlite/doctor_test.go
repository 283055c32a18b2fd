package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forge-orm/forge"
)

type doctorNote struct {
	ID   int64
	Body string
}

var doctorNotes = forge.Model("doctor_notes", func(n *doctorNote, f *forge.Fields) {
	f.ID(&n.ID)
	f.Text(&n.Body)
})

// TestDoctor runs forge.Doctor on a real SQLite database: drift before the
// schema exists (naming the table), nothing once it does, and drift again
// when a column is missing.
func TestDoctor(t *testing.T) {
	ctx := context.Background()
	db, err := forge.Open(forge.MustSchema(doctorNotes), openTemp(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fs := forge.Doctor(ctx, db, forge.UsesTransactions())
	if len(fs) != 1 || fs[0].ID != forge.FindingDrift || fs[0].Severity != forge.Error || !strings.Contains(fs[0].Message, "doctor_notes") {
		t.Fatalf("before CreateSchema: %v", fs)
	}
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if fs := forge.Doctor(ctx, db, forge.UsesTransactions()); len(fs) != 0 {
		t.Fatalf("after CreateSchema: %v", fs)
	}
	if _, err := forge.Exec(ctx, db, `ALTER TABLE "doctor_notes" DROP COLUMN "body"`); err != nil {
		t.Fatal(err)
	}
	if fs := forge.Doctor(ctx, db); len(fs) != 1 || fs[0].ID != forge.FindingDrift || !strings.Contains(fs[0].Message, "body") {
		t.Fatalf("after dropping a column: %v", fs)
	}
}
