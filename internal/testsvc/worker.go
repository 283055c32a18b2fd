package testsvc

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

//go:embed gotest.mjs
var goTestRunner []byte

// WorkerOptions configure WorkerTest.
type WorkerOptions struct {
	// Run is the -test.run pattern of the tests to run inside workerd.
	Run string
	// Env is the Go program's environment (os.Getenv) inside the Worker.
	Env map[string]string
	// Miniflare are more options for new Miniflare(...), such as
	// {"hyperdrives": {"HYPERDRIVE": dsn}} or {"kvNamespaces": ["KV"]}.
	Miniflare map[string]any
	// Want are strings the output must hold, such as "--- PASS: TestX ",
	// to make sure the tests ran there rather than skipped.
	Want []string
	// Package is the package whose tests to compile (an import path or a
	// directory); "" is the package in the current directory.
	Package string
	// Timeout bounds the run inside workerd; 0 is 5 minutes.
	Timeout time.Duration
}

// WorkerTest compiles the tests of the package in the current directory
// (or o.Package) for js/wasm (go test -c) and runs those matching o.Run inside the real
// workerd, through Miniflare (gotest.mjs), in one request. Inside, the test
// code finds what a Go Worker finds (connect() of cloudflare:sockets, for
// edge/workers/sockets) and the request's env and ctx as
// globalThis.__forgeTest.{env, ctx}. It fails the test when the tests fail
// there or the output lacks one of o.Want, and returns the output.
func WorkerTest(t *testing.T, o WorkerOptions) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	jsDir := JSDir(t)
	node := Node(t)
	_, goroot := Go(t)
	dir := t.TempDir()
	start := time.Now()
	pkg := o.Package
	if pkg == "" {
		pkg = "."
	}
	GoRun(t, []string{"GOOS=js", "GOARCH=wasm"}, "test", "-c", "-o", filepath.Join(dir, "test.wasm"), pkg)
	execJS, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"wasm_exec.js": execJS, "gotest.mjs": goTestRunner} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("built the js/wasm test binary in %v", time.Since(start).Round(time.Millisecond))

	args, _ := json.Marshal([]string{"-test.v", "-test.count=1", "-test.run=" + o.Run})
	env := o.Env
	if env == nil {
		env = map[string]string{}
	}
	goEnv, _ := json.Marshal(env)
	mf := o.Miniflare
	if mf == nil {
		mf = map[string]any{}
	}
	mfOptions, err := json.Marshal(mf)
	if err != nil {
		t.Fatal(err)
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "gotest.mjs"))
	cmd.Env = append(os.Environ(), "FORGE_JS_DIR="+jsDir, "TEST_DIR="+dir, "TEST_ARGS="+string(args), "GO_ENV="+string(goEnv), "MF_OPTIONS="+string(mfOptions))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start = time.Now()
	err = cmd.Run()
	t.Logf("inside workerd (%v):\n%s", time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("the tests failed inside workerd: %v", err)
	}
	for _, w := range o.Want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the output inside workerd lacks %q", w)
		}
	}
	return out.String()
}

// ForgeWorker builds the Worker of the package pkg (a directory, or an
// import path) with this checkout's forge-worker command ("forge-worker
// build") into a new temporary folder, checks that it wrote app.wasm,
// wasm_exec.js, worker.mjs and wrangler.toml, and returns the folder. It
// skips under -short, and like WorkerScript needs Node and js/.
func ForgeWorker(t *testing.T, pkg string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	JSDir(t)
	Node(t)
	goCmd, _ := Go(t)
	tool := filepath.Join(t.TempDir(), "forge-worker")
	GoRun(t, nil, "build", "-o", tool, "github.com/forge-orm/forge/edge/workers/cmd/forge-worker")
	dir := filepath.Join(t.TempDir(), "worker")
	// forge-worker runs "go" from PATH: make it the same go.
	env := []string{"PATH=" + filepath.Dir(goCmd) + string(os.PathListSeparator) + os.Getenv("PATH")}
	out := Command(t, "", env, tool, "build", "-o", dir, pkg)
	t.Log(strings.TrimSpace(out))
	if !strings.Contains(out, "app.wasm") {
		t.Errorf("forge-worker printed %q", out)
	}
	for _, f := range []string{"app.wasm", "wasm_exec.js", "worker.mjs", "wrangler.toml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("forge-worker did not write %s", f)
		}
	}
	return dir
}

// WorkerScript runs the Node script at path (from its own folder), which
// starts the Worker that ForgeWorker built in dir inside the real workerd
// through Miniflare and checks it, with FORGE_JS_DIR and WORKER_DIR set
// and env added. It fails the test when the script fails, and logs and
// returns the script's output.
func WorkerScript(t *testing.T, path, dir string, env ...string) string {
	t.Helper()
	env = append([]string{"FORGE_JS_DIR=" + JSDir(t), "WORKER_DIR=" + dir}, env...)
	start := time.Now()
	out := Command(t, filepath.Dir(path), env, Node(t), filepath.Base(path))
	t.Logf("%s (%v):\n%s", path, time.Since(start).Round(time.Millisecond), out)
	return out
}
