//go:build !(js && wasm)

package sqlite_test

import (
	"testing"

	"github.com/forge-orm/forge/internal/testsvc"
)

// TestEdgeBuild checks the js/wasm build of this package: it vets, it has
// the API of the server build (sqlite_js.go must follow sqlite.go), and
// TestOpenAtTheEdge (edge_js_test.go) passes under Node with Go's
// go_js_wasm_exec: Open returns a clear error where modernc.org/sqlite
// would not even compile.
func TestEdgeBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles for js/wasm")
	}
	testsvc.EdgeBuild(t, "TestOpenAtTheEdge")
}
