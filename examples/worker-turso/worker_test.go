package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/internal/testsvc"
	"github.com/forge-orm/forge/libsql"
)

// logProxy forwards requests to a sqld and keeps their bodies.
type logProxy struct {
	p      *httputil.ReverseProxy
	mu     sync.Mutex
	bodies []string
}

func newLogProxy(t *testing.T, target string) (*logProxy, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	lp := &logProxy{p: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(lp)
	t.Cleanup(srv.Close)
	return lp, srv.URL
}

func (lp *logProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	lp.mu.Lock()
	lp.bodies = append(lp.bodies, string(body))
	lp.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	lp.p.ServeHTTP(w, r)
}

// count returns how many requests contained all of subs.
func (lp *logProxy) count(subs ...string) int {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	n := 0
next:
	for _, b := range lp.bodies {
		for _, s := range subs {
			if !strings.Contains(b, s) {
				continue next
			}
		}
		n++
	}
	return n
}

// TestWorkerUnderWorkerd builds the Worker and runs testdata/worker.test.mjs
// in the real workerd (Miniflare) against two sqld: a primary and a replica
// that sqld replicates itself (--primary-grpc-url), each behind a proxy
// that logs what it is sent. The script checks read-your-writes through the
// x-forge-token header; this test then checks where the statements went:
// writes to the primary only, reads without a token to the replica, and
// reads with one to the primary.
func TestWorkerUnderWorkerd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	jsDir := testsvc.JSDir(t)
	node := testsvc.Node(t)
	goCmd, _ := testsvc.Go(t)
	purl, rurl := testsvc.SQLDReplicated(t)
	primary, pproxy := newLogProxy(t, purl)
	replica, rproxy := newLogProxy(t, rurl)

	// The schema, created on the primary; the replica gets it from there.
	conn, err := libsql.Open(libsql.Config{URL: purl, Fetch: nethttp.New(nil)})
	if err != nil {
		t.Fatal(err)
	}
	db, err := forge.Open(Schema, conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "dist")
	env := []string{"PATH=" + filepath.Dir(goCmd) + string(os.PathListSeparator) + os.Getenv("PATH")}
	out := run(t, ".", env, goCmd, "run", "github.com/forge-orm/forge/edge/workers/cmd/forge-worker", "build", "-o", dir, ".")
	t.Log(strings.TrimSpace(out))
	out = run(t, "testdata", []string{"FORGE_JS_DIR=" + jsDir, "WORKER_DIR=" + dir, "PRIMARY_URL=" + pproxy, "REPLICA_URL=" + rproxy}, node, "worker.test.mjs")
	t.Log(out)

	insert, selectNotes := `INSERT INTO \"notes\"`, `FROM \"notes\"`
	if n := primary.count(insert); n != 3 {
		t.Errorf("the primary got %d INSERTs, want 3", n)
	}
	if n := replica.count(insert); n != 0 {
		t.Errorf("the replica got %d INSERTs, want none", n)
	}
	if n := replica.count(selectNotes); n == 0 {
		t.Error("no read went to the replica")
	}
	// The read with a token from the future could only be served by the
	// primary.
	if n := primary.count(selectNotes); n == 0 {
		t.Error("no read went to the primary")
	}
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}
