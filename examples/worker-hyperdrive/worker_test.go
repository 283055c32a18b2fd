package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/internal/testsvc"
	"github.com/forge-orm/forge/migrate"
	"github.com/forge-orm/forge/pgx"
)

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

// TestNoNetHTTP fails if the Worker links net/http (about 7 MB).
func TestNoNetHTTP(t *testing.T) {
	goCmd, _ := testsvc.Go(t)
	cmd := exec.Command(goCmd, "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
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
// (Miniflare) with a KV namespace (CACHE) and a Hyperdrive binding
// (HYPERDRIVE) pointed at the test command's PostgreSQL, as a role made
// for the test whose own schema holds the tables. It checks reads as
// misses then hits, that every committed write makes the next read a
// miss, that a failed transaction changes nothing (in the database or
// the cache), bad input, and concurrent requests, each with its own
// connection.
func TestWorkerUnderWorkerd(t *testing.T) {
	dsn := os.Getenv("FORGE_TEST_PG_DSN")
	if dsn == "" {
		forgetest.RequireService(t, "PostgreSQL (FORGE_TEST_PG_DSN)")
	}
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	jsDir := testsvc.JSDir(t)
	node := testsvc.Node(t)
	goCmd, _ := testsvc.Go(t)

	// A role with a schema of its own name: PostgreSQL's default
	// search_path ("$user", public) puts the Worker's tables there.
	ctx := context.Background()
	admin, err := pgx.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	role := fmt.Sprintf("forge_hdex_%d", os.Getpid())
	t.Cleanup(func() {
		bg := context.Background()
		_, _ = admin.Exec(bg, "DROP SCHEMA IF EXISTS "+role+" CASCADE", nil)
		_, _ = admin.Exec(bg, "DROP ROLE IF EXISTS "+role, nil)
		admin.Close()
	})
	for _, sql := range []string{"CREATE ROLE " + role + " LOGIN", "CREATE SCHEMA " + role + " AUTHORIZATION " + role} {
		if _, err := admin.Exec(ctx, sql, nil); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Miniflare insists on a password; the test server trusts local
	// connections and ignores it.
	u.User = url.UserPassword(role, "unused")
	stmts, err := migrate.Create(dialect.Postgres, Schema.Describe(), migrate.Options{}).Statements(dialect.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range stmts {
		if _, err := admin.Exec(ctx, "SET ROLE "+role+"; "+sql, nil); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	_, _ = admin.Exec(ctx, "RESET ROLE", nil)

	dir := filepath.Join(t.TempDir(), "dist")
	env := []string{"PATH=" + filepath.Dir(goCmd) + string(os.PathListSeparator) + os.Getenv("PATH")}
	out := run(t, ".", env, goCmd, "run", "github.com/forge-orm/forge/edge/workers/cmd/forge-worker", "build", "-o", dir, ".")
	t.Log(strings.TrimSpace(out))
	hd, _ := json.Marshal(u.String())
	out = run(t, "testdata", []string{"FORGE_JS_DIR=" + jsDir, "WORKER_DIR=" + dir, "HYPERDRIVE_URL=" + string(hd)}, node, "worker.test.mjs")
	t.Log(out)
}

func TestSchemaSQL(t *testing.T) {
	stmts, err := migrate.Create(dialect.Postgres, Schema.Describe(), migrate.Options{}).Statements(dialect.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(stmts, ";\n")
	for _, want := range []string{`CREATE TABLE "orders"`, `"status" text NOT NULL DEFAULT 'new'`} {
		if !strings.Contains(all, want) {
			t.Errorf("the schema's DDL lacks %s:\n%s", want, all)
		}
	}
}
