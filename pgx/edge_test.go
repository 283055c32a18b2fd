//go:build !(js && wasm)

package pgx_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/internal/testsvc"
)

// TestEdgeBuild checks the js/wasm build of this package: it vets, it has
// the API of the server build (pgx_js.go must follow pgx.go), and
// TestOpenAtTheEdge (edge_js_test.go) passes under Node with Go's
// go_js_wasm_exec: Open returns a clear error instead of hanging on a
// network that does not exist.
func TestEdgeBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles for js/wasm")
	}
	goroot := runtime.GOROOT()
	goCmd := filepath.Join(goroot, "bin", "go")
	jsEnv := []string{"GOOS=js", "GOARCH=wasm"}
	api := func(env []string) []string {
		var fs []string
		for _, l := range strings.Split(goRun(t, goCmd, env, "doc", "-all", "."), "\n") {
			if strings.HasPrefix(l, "func ") {
				fs = append(fs, l)
			}
		}
		slices.Sort(fs)
		return fs
	}
	server, edge := api(nil), api(jsEnv)
	if len(server) == 0 || !slices.Equal(server, edge) {
		t.Errorf("the js/wasm API differs from the server build's:\nserver:\n%s\njs/wasm:\n%s", strings.Join(server, "\n"), strings.Join(edge, "\n"))
	}
	goRun(t, goCmd, jsEnv, "vet", ".")
	node := testsvc.Node(t)
	path := "PATH=" + filepath.Join(goroot, "lib", "wasm") + string(os.PathListSeparator) + filepath.Dir(node) + string(os.PathListSeparator) + os.Getenv("PATH")
	t.Log(goRun(t, goCmd, append(jsEnv, path), "test", "-count=1", "-run", "^TestOpenAtTheEdge$", "."))
}

func goRun(t *testing.T, goCmd string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v go %v: %v\n%s", env, args, err, out.String())
	}
	return out.String()
}
