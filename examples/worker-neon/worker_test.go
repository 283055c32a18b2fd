package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/internal/testsvc"
	"github.com/forge-orm/forge/neon"
)

// gateway starts forge gateway in front of the test's PostgreSQL, in a
// schema of the test's own (dropped at the end), and returns its /sql URL
// and a write token.
func gateway(t *testing.T) (endpoint, token string) {
	dsn := os.Getenv("FORGE_TEST_PG_DSN")
	if dsn == "" {
		forgetest.RequireService(t, "PostgreSQL (FORGE_TEST_PG_DSN)")
	}
	schema := "forge_vercel_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	bin := filepath.Join(t.TempDir(), "forge-gateway")
	testsvc.GoRun(t, nil, "build", "-o", bin, "github.com/forge-orm/forge/gateway/cmd/forge-gateway")
	addr := "127.0.0.1:" + strconv.Itoa(testsvc.FreePort(t))
	token = "vercel-test-0123456789abcdef"
	// The test's own schema on a throwaway connection: the gateway refuses
	// a superuser role unless told (forge doctor --gateway says why).
	log := testsvc.Start(t, ".", bin, "--db", u.String(), "--listen", addr, "--token", "edge:"+token+":write", "--dangerously-allow-superuser")
	testsvc.WaitPort(t, addr, 30*time.Second, log)
	endpoint = "http://" + addr + "/sql"

	conn, err := neon.Open(neon.Config{ConnectionString: connString, Endpoint: endpoint, AuthToken: token, Fetch: nethttp.New(nil)})
	if err != nil {
		t.Fatal(err)
	}
	db, err := forge.Open(Schema, conn)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := forge.Exec(ctx, db, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("%v\n%s", err, log())
	}
	t.Cleanup(func() {
		if _, err := forge.Exec(context.Background(), db, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping the test's schema: %v", err)
		}
	})
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	return endpoint, token
}

// connString is the connection string the function sends: forge gateway
// serves its own database whatever it names.
const connString = "postgres://app@gateway.invalid/app"

// TestVercelEdge builds the example with forge-worker -target vercel and
// runs testdata/vercel.test.mjs: the function under edge-runtime with
// WebAssembly compilation from bytes and eval disabled (as on Vercel), the
// wasm compiled by the host and injected, the users API over Neon's HTTP
// protocol through forge gateway on PostgreSQL: CRUD, a 409 naming the
// field, an atomic batch, the CapabilityError of db.Transaction, and 16
// concurrent requests.
func TestVercelEdge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm, the gateway, and starts edge-runtime")
	}
	jsDir := testsvc.JSDir(t)
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "@edge-runtime", "vm")); err != nil {
		forgetest.RequireService(t, "edge-runtime in "+jsDir+"/node_modules (cd js && npm ci --ignore-scripts)")
	}
	node := testsvc.Node(t)
	endpoint, token := gateway(t)

	root := t.TempDir()
	out := testsvc.GoRun(t, nil, "run", "github.com/forge-orm/forge/edge/workers/cmd/forge-worker", "build", "-target", "vercel",
		"-name", "api", "-env", "DATABASE_URL,NEON_ENDPOINT,NEON_TOKEN", "-o", root, ".")
	t.Log(strings.TrimSpace(out))
	fn := filepath.Join(root, ".vercel", "output", "functions", "api.func")
	total := 0
	for _, f := range []string{"index.mjs", "wasm_exec.js", "app.wasm", ".vc-config.json", "../../config.json"} {
		b, err := os.ReadFile(filepath.Join(fn, f))
		if err != nil {
			t.Fatalf("the build output lacks %s: %v", f, err)
		}
		if !strings.HasSuffix(f, ".json") {
			var gz bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
			zw.Write(b)
			zw.Close()
			total += gz.Len()
		}
	}
	// Vercel's Pro plan caps an Edge Function at 2 MB gzipped (Hobby: 1 MB,
	// which this example does not fit: see README.md).
	if total > 2<<20 {
		t.Errorf("the function is %d bytes gzipped: over Vercel Pro's 2 MB cap", total)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "vercel.test.mjs")
	cmd.Dir = "testdata"
	cmd.Env = append(os.Environ(), "FORGE_JS_DIR="+jsDir, "FUNC_DIR="+fn, "DATABASE_URL="+connString, "NEON_ENDPOINT="+endpoint, "NEON_TOKEN="+token)
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test vercel.test.mjs: %v\n%s", err, res)
	}
	t.Logf("%s", res)
}
