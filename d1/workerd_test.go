//go:build !(js && wasm)

package d1_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/forge-orm/forge/internal/testsvc"
)

// TestConformanceUnderWorkerd compiles this package's tests for js/wasm
// and runs them inside the real workerd through Miniflare
// (testsvc.WorkerTest), with fresh D1 databases bound as DB00 ... DB39:
// forge's conformance suite (forgetest) and the D1-specific tests of
// conformance_js_test.go run against D1 itself, in a Worker.
func TestConformanceUnderWorkerd(t *testing.T) {
	dbs := map[string]string{}
	for i := range 40 {
		dbs[fmt.Sprintf("DB%02d", i)] = fmt.Sprintf("forge-d1-test-%d", i)
	}
	testsvc.WorkerTest(t, testsvc.WorkerOptions{
		// Fuzz targets read their corpus from testdata/, which a Worker has not.
		Run:       "^Test",
		Miniflare: map[string]any{"d1Databases": dbs},
		Timeout:   8 * time.Minute,
		// Make sure they ran there rather than skipped.
		Want: []string{"--- PASS: TestConformance ", "--- PASS: TestConformance/CreateAndFind", "--- PASS: TestConformance/Batch", "--- PASS: TestConformance/ConstraintErrors", "--- PASS: TestValues", "--- PASS: TestDriver", "--- PASS: TestCapabilities", "--- PASS: TestIncludeOnD1", "--- PASS: TestBlobsOutsideJSON", "--- PASS: TestWatch/OtherWriter", "--- PASS: TestWatch/SameDBWakes", "--- PASS: TestSessions"},
	})
}
