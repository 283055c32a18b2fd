//go:build js && wasm

package sqlite_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/forge-orm/forge/sqlite"
)

// TestOpenAtTheEdge runs in js/wasm (started by TestEdgeBuild): Open
// fails at once, saying why and what to use instead.
func TestOpenAtTheEdge(t *testing.T) {
	for _, path := range []string{":memory:", "app.db"} {
		conn, err := sqlite.Open(path)
		if err == nil || conn != nil {
			t.Fatalf("Open(%q) = %v, %v in js/wasm", path, conn, err)
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("the error does not match errors.ErrUnsupported: %v", err)
		}
		for _, want := range []string{"no filesystem and no TCP", "d1", "d1rest", "libsql", "neon"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q: %v", want, err)
			}
		}
	}
}
