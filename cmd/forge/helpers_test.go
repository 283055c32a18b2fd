package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/migrate"
	"github.com/forge-orm/forge/schema"
	"github.com/forge-orm/forge/sqlite"
)

// The tests run the real forge binary, built once per test run, against a
// small user module written into a temporary directory, and real SQLite
// files and PostgreSQL schemas (FORGE_TEST_PG_DSN).

var (
	buildOnce sync.Once
	binDir    string
	forgeBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds forge (once) and returns its path.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "forge-cli-test-")
		if buildErr != nil {
			return
		}
		forgeBin = filepath.Join(binDir, "forge")
		out, err := exec.Command("go", "build", "-o", forgeBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return forgeBin
}

// repoRoot is the repository root (this package is cmd/forge).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// app is a user module in a temporary directory.
type app struct {
	t   testing.TB
	dir string
}

// newApp writes a module example.com/app that requires forge (replaced by
// this repository) and the given files.
func newApp(t testing.TB, files map[string]string) *app {
	t.Helper()
	a := &app{t: t, dir: t.TempDir()}
	a.write("go.mod", "module example.com/app\n\ngo 1.26.0\n\nrequire github.com/forge-orm/forge v0.0.0\n\nreplace github.com/forge-orm/forge => "+repoRoot(t)+"\n")
	for name, text := range files {
		a.write(name, text)
	}
	return a
}

func (a *app) path(name string) string { return filepath.Join(a.dir, filepath.FromSlash(name)) }

func (a *app) write(name, text string) {
	a.t.Helper()
	p := a.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		a.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		a.t.Fatal(err)
	}
}

func (a *app) read(name string) string {
	a.t.Helper()
	b, err := os.ReadFile(a.path(name))
	if err != nil {
		a.t.Fatal(err)
	}
	return string(b)
}

// result is a finished forge process.
type result struct {
	code           int
	stdout, stderr string
	args           []string
}

func (r result) String() string {
	return fmt.Sprintf("forge %s: exit %d\n--- stdout:\n%s--- stderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// command prepares forge with args, run in the module's directory.
func (a *app) command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary(a.t), args...)
	cmd.Dir = a.dir
	// The module's own go.mod decides (not a go.work of whoever runs the
	// tests), and no database comes from the environment.
	cmd.Env = append(os.Environ(), "GOWORK=off", "FORGE_DATABASE_URL=")
	return cmd
}

// forge runs forge and returns its result.
func (a *app) forge(args ...string) result {
	a.t.Helper()
	cmd := a.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), args: args}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		a.t.Fatalf("running forge: %v", err)
	}
	return r
}

// must runs forge and fails the test unless it exits with want.
func (a *app) must(want int, args ...string) result {
	a.t.Helper()
	r := a.forge(args...)
	if r.code != want {
		a.t.Fatalf("want exit %d, got %s", want, r)
	}
	return r
}

// testDB is a fresh database.
type testDB struct {
	kind string // "sqlite" or "postgres"
	url  string
	conn driver.Conn // for the test's own checks
}

var pgSeq atomic.Int64

// sqliteDB is a new SQLite file.
func sqliteDB(t testing.TB) *testDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	conn, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.Exec(context.Background(), "SELECT 1", nil); err != nil { // creates the file
		t.Fatal(err)
	}
	return &testDB{kind: "sqlite", url: "sqlite:" + path, conn: conn}
}

// pgDB is a new PostgreSQL schema, reached through search_path in the URL.
func pgDB(t testing.TB) *testDB {
	t.Helper()
	dsn := os.Getenv("FORGE_TEST_PG_DSN")
	if dsn == "" {
		forgetest.RequireService(t, "PostgreSQL (FORGE_TEST_PG_DSN)")
	}
	ctx := context.Background()
	admin, err := openPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("forgecli_%d_%d", time.Now().UnixNano(), pgSeq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+name, nil); err != nil {
		_ = admin.Close()
		t.Fatalf("creating a schema on FORGE_TEST_PG_DSN: %v", err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	url := dsn + sep + "search_path=" + name
	conn, err := openPostgres(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE", nil)
		_ = admin.Close()
	})
	return &testDB{kind: "postgres", url: url, conn: conn}
}

// eachDB runs f on a fresh SQLite file and a fresh PostgreSQL schema.
func eachDB(t *testing.T, f func(t *testing.T, db *testDB)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, sqliteDB(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, pgDB(t))
	})
}

func (db *testDB) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := db.conn.Exec(context.Background(), q, args); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// ph is the n-th placeholder.
func (db *testDB) ph(n int) string { return string(db.conn.Dialect().AppendPlaceholder(nil, n)) }

// count runs a COUNT query.
func (db *testDB) count(t testing.TB, q string, args ...any) int64 {
	t.Helper()
	rows, err := db.conn.Query(context.Background(), q, args)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var n int64
	if !rows.Next() {
		t.Fatalf("%s: no row", q)
	}
	if err := rows.Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (db *testDB) inspect(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := migrate.Inspect(context.Background(), db.conn, db.conn.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (db *testDB) hasTable(t testing.TB, name string) bool {
	t.Helper()
	ok, err := tableExists(context.Background(), db.conn, name)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func contains(t testing.TB, r result, s string) {
	t.Helper()
	if !strings.Contains(r.stdout+r.stderr, s) {
		t.Fatalf("want %q in the output of %s", s, r)
	}
}

func readDirNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, err
}
