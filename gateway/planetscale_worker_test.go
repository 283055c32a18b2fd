package gateway_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/internal/testsvc"
)

func command(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestPlanetScaleConformanceInWorker runs forge's conformance suite with
// the planetscale driver inside the real workerd (Miniflare): it starts one
// gateway per conformance test, each on a fresh MySQL database, compiles
// the planetscale package's tests for js/wasm and runs their
// TestConformanceInWorker (planetscale/worker_js_test.go) in a Worker,
// where the driver reaches the
// gateways through the runtime's fetch.
func TestPlanetScaleConformanceInWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	mysqlDSN(t)
	urls := make([]string, len(forgetest.Tests))
	for i := range urls {
		_, _, url := psServer(t, gateway.Config{})
		urls[i] = psURL(url, "writer", writeSecret)
	}
	want := []string{"runtime: Cloudflare-Workers", "--- PASS: TestConformanceInWorker "}
	for _, tc := range forgetest.Tests {
		want = append(want, "--- PASS: TestConformanceInWorker/"+tc.Name+" ")
	}
	testsvc.WorkerTest(t, testsvc.WorkerOptions{
		Package: "github.com/forge-orm/forge/planetscale",
		Run:     "^TestConformanceInWorker$",
		Env:     map[string]string{"FORGE_PLANETSCALE_URLS": strings.Join(urls, ",")},
		Want:    want,
	})
}

// TestPlanetScaleWorkerExample builds examples/worker-planetscale with the
// forge-worker command and runs its testdata/worker.test.mjs, which starts
// it in the real workerd (Miniflare) with PLANETSCALE_URL pointing at a
// gateway on a fresh MySQL database and checks its API end to end.
func TestPlanetScaleWorkerExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	d, _, url := psServer(t, gateway.Config{})
	jsDir := testsvc.JSDir(t)
	node := testsvc.Node(t)
	goCmd, _ := testsvc.Go(t)
	example := filepath.Join("..", "examples", "worker-planetscale")
	var version string
	if err := d.admin.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	schema, err := command(t, example, nil, goCmd, "run", ".", "schema", version)
	if err != nil {
		t.Fatalf("the example's schema: %v\n%s", err, schema)
	}
	for _, q := range strings.Split(schema, ";\n") {
		if q = strings.TrimSpace(q); q != "" {
			d.mustExec(t, q)
		}
	}
	dist := filepath.Join(t.TempDir(), "dist")
	env := []string{"PATH=" + filepath.Dir(goCmd) + string(os.PathListSeparator) + os.Getenv("PATH")}
	if out, err := command(t, example, env, goCmd, "run", "github.com/forge-orm/forge/edge/workers/cmd/forge-worker", "build", "-o", dist, "."); err != nil {
		t.Fatalf("forge-worker build: %v\n%s", err, out)
	}
	out, err := command(t, filepath.Join(example, "testdata"), []string{"FORGE_JS_DIR=" + jsDir, "WORKER_DIR=" + dist,
		"PLANETSCALE_URL=" + psURL(url, "writer", writeSecret)}, node, "worker.test.mjs")
	t.Log(out)
	if err != nil {
		t.Fatalf("worker.test.mjs: %v", err)
	}
}
