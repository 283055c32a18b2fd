//go:build !(js && wasm)

package d1_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/internal/testsvc"
)

// TestConformanceUnderWorkerd compiles this package's tests for js/wasm
// (go test -c) and runs them inside the real workerd through Miniflare
// (testdata/gotest.mjs), with fresh D1 databases: forge's conformance suite
// (forgetest) and the D1-specific tests of conformance_js_test.go run
// against D1 itself, in a Worker.
func TestConformanceUnderWorkerd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	jsDir := testsvc.JSDir(t)
	node := testsvc.Node(t)
	goCmd, goroot := testsvc.Go(t)
	dir := t.TempDir()
	out, err := command(goCmd, ".", []string{"GOOS=js", "GOARCH=wasm"}, "test", "-c", "-o", filepath.Join(dir, "test.wasm"), ".")
	if err != nil {
		t.Fatalf("go test -c for js/wasm: %v\n%s", err, out)
	}
	execJS, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), execJS, 0o644); err != nil {
		t.Fatal(err)
	}
	// Fuzz targets read their corpus from testdata/, which a Worker has not.
	args, _ := json.Marshal([]string{"-test.v", "-test.count=1", "-test.run=^Test"})
	out, err = command(node, "testdata", []string{"FORGE_JS_DIR=" + jsDir, "TEST_DIR=" + dir, "TEST_ARGS=" + string(args)}, "gotest.mjs")
	t.Log(out)
	if err != nil {
		t.Fatalf("the tests failed inside workerd: %v", err)
	}
	// Make sure they ran there rather than skipped.
	for _, want := range []string{"--- PASS: TestConformance ", "--- PASS: TestConformance/CreateAndFind", "--- PASS: TestConformance/Batch", "--- PASS: TestConformance/ConstraintErrors", "--- PASS: TestValues", "--- PASS: TestDriver", "--- PASS: TestCapabilities", "--- PASS: TestIncludeOnD1", "--- PASS: TestBlobsOutsideJSON", "--- PASS: TestWatch/OtherWriter", "--- PASS: TestWatch/SameDBWakes", "--- PASS: TestSessions"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output inside workerd lacks %q", want)
		}
	}
}

func command(name, dir string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
