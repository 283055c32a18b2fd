package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-orm/forge/d1"
	"github.com/forge-orm/forge/internal/testsvc"
	"github.com/forge-orm/forge/migrate"
)

// schemaSQL is the DDL of Schema for D1, as migrate renders it.
func schemaSQL(t *testing.T) []string {
	stmts, err := migrate.Create(d1.Dialect, Schema.Describe(), migrate.Options{IfNotExists: true}).Statements(d1.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	return stmts
}

// TestNoNetHTTP fails if the Worker links net/http, which would add about
// 7 MB to it.
func TestNoNetHTTP(t *testing.T) {
	deps := strings.Fields(testsvc.GoRun(t, []string{"GOOS=js", "GOARCH=wasm"}, "list", "-deps", "."))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %v", deps)
	}
	for _, p := range deps {
		if p == "net/http" || strings.HasPrefix(p, "net/http/") || p == "testing" {
			t.Errorf("GOOS=js GOARCH=wasm, the Worker links %s", p)
		}
	}
}

// TestWorkerUnderWorkerd builds the Worker with the forge-worker command
// and runs testdata/worker.test.mjs, which starts it in the real workerd
// (Miniflare) with a D1 database and checks: CRUD through forge's typed
// API, bad input, the unique violation as a 409 naming the field, a batch
// with a failing statement writing nothing, db.Transaction's
// CapabilityError, 32 concurrent creates and reads, and a panic's 500.
func TestWorkerUnderWorkerd(t *testing.T) {
	dir := testsvc.ForgeWorker(t, ".")
	checkWasm(t, filepath.Join(dir, "app.wasm"))
	ddl, err := json.Marshal(schemaSQL(t))
	if err != nil {
		t.Fatal(err)
	}
	testsvc.WorkerScript(t, "testdata/worker.test.mjs", dir, "SCHEMA_SQL="+string(ddl))
}

func TestSchemaSQL(t *testing.T) {
	stmts := schemaSQL(t)
	all := strings.Join(stmts, ";\n")
	for _, want := range []string{`CREATE TABLE IF NOT EXISTS "users"`, `"email" TEXT NOT NULL`, "STRICT", `CREATE UNIQUE INDEX IF NOT EXISTS "users_email_key"`} {
		if !strings.Contains(all, want) {
			t.Errorf("the schema's DDL lacks %s:\n%s", want, all)
		}
	}
}

// maxGzip bounds the Worker's wasm gzipped by compress/gzip at
// BestCompression, against growth: 1,132,152 bytes when this was last set,
// after the trust fixes (value rules, keyset paging over NULLs, constraint
// naming), the MySQL write paths (the dialect is chosen at run time), and
// the query cache's and Watch's hooks were merged. The target is 1.0 MB
// and is not met (see scripts/edge-bench and docs/ARCHITECTURE.md). Size
// decides how much V8 has to load, and grows with what the first request
// compiles.
const maxGzip = 1_140_000

// checkWasm fails if the Worker grew past maxGzip, or links encoding/json's
// encoder and decoder or Go's FIPS 140 crypto module, which it does not
// need (about 120 KB and 50 KB gzipped, and start time). The function names
// of the Go runtime's tables stay in a -s build, so linking shows as text.
func checkWasm(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	t.Logf("app.wasm: %d bytes, %d gzipped", len(raw), gz.Len())
	if gz.Len() > maxGzip {
		t.Errorf("app.wasm is %d bytes gzipped, more than %d: see what it links with scripts/edge-bench", gz.Len(), maxGzip)
	}
	if !bytes.Contains(raw, []byte("runtime.main")) {
		t.Fatal("app.wasm has no function names: the checks below would pass vacuously")
	}
	for _, sym := range []string{"encoding/json.Marshal", "encoding/json.Unmarshal", "crypto/internal/fips140/aes"} {
		if bytes.Contains(raw, []byte(sym)) {
			t.Errorf("app.wasm links %s", sym)
		}
	}
}
