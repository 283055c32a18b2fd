package sqliteerr

import (
	"slices"
	"testing"

	"github.com/forge-orm/forge/driver"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		msg        string
		kind       driver.ConstraintKind
		table      string
		cols       []string
		constraint string
	}{
		{"constraint failed: UNIQUE constraint failed: users.email (2067)", driver.Unique, "users", []string{"email"}, ""},
		{"D1_ERROR: UNIQUE constraint failed: tags.scope, tags.name: SQLITE_CONSTRAINT", driver.Unique, "tags", []string{"scope", "name"}, ""},
		{"SQLite error: NOT NULL constraint failed: users.name", driver.NotNull, "users", []string{"name"}, ""},
		{"FOREIGN KEY constraint failed", driver.ForeignKey, "", nil, ""},
		{"CHECK constraint failed: n_positive", driver.Check, "", nil, "n_positive"},
	} {
		ce := Parse(tc.msg, nil)
		if ce == nil || ce.Kind != tc.kind || ce.Table != tc.table || !slices.Equal(ce.Columns, tc.cols) || ce.Constraint != tc.constraint {
			t.Errorf("%q: %+v", tc.msg, ce)
		}
	}
	if Parse("no such table: x", nil) != nil {
		t.Error("a non-constraint message parsed")
	}
}
