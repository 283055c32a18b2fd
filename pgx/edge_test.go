//go:build !(js && wasm)

package pgx_test

import (
	"testing"

	"github.com/forge-orm/forge/internal/testsvc"
)

// TestEdgeBuild checks the js/wasm build of this package: it vets, it has
// the API of the server build (pgx_js.go must follow open.go), and
// TestOpenAtTheEdge (edge_js_test.go) passes under Node with Go's
// go_js_wasm_exec: Open returns a clear error instead of hanging on a
// network that does not exist. (FromConn works there: the hyperdrive
// module runs the conformance suite through it inside workerd.)
func TestEdgeBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles for js/wasm")
	}
	testsvc.EdgeBuild(t, "TestOpenAtTheEdge")
}
