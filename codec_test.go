package forge

import (
	"testing"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/schema"
)

// TestCodecTable fails when a column kind lacks its behaviour: every kind
// has a codec for non-null fields (and for nullable ones, except the
// primary-key kinds), and a column type in every dialect.
func TestCodecTable(t *testing.T) {
	for k := schema.Kind(1); k.String() != "invalid"; k++ {
		for _, nullable := range []bool{false, true} {
			if nullable && (k == schema.ID || k == schema.TextID) {
				continue
			}
			c := codecFor(k, nullable)
			if c == nil {
				t.Errorf("kind %s (nullable %v) has no codec", k, nullable)
				continue
			}
			if c.value == nil || c.encode == nil || c.setDefault == nil || c.checkDefault == nil || (c.dest == nil) == (c.decode == nil) {
				t.Errorf("kind %s (nullable %v): incomplete codec", k, nullable)
			}
			if (c.key == nil) != (c.keyArg == nil) {
				t.Errorf("kind %s (nullable %v): key without keyArg or the reverse", k, nullable)
			}
			for _, d := range []dialect.Dialect{dialect.SQLite, dialect.Postgres} {
				if d.ColumnType(&schema.Column{Kind: k, Nullable: nullable}) == "" {
					t.Errorf("kind %s has no %s column type", k, d.Name())
				}
			}
		}
		if k == schema.ID || k == schema.TextID || k == schema.Int64 || k == schema.Int32 || k == schema.Text {
			if codecFor(k, false).key == nil {
				t.Errorf("kind %s can be a relation key but its codec has no key", k)
			}
		}
	}
}
