package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
)

// ids lists findings as "severity id".
func ids(fs []forge.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Severity.String()+" "+f.ID)
	}
	return strings.Join(s, ", ")
}

func TestParseWrangler(t *testing.T) {
	c, err := parseWrangler(`# a comment
name = "api" # trailing comment
main = 'worker.mjs'
compatibility_date = "2026-06-01"
compatibility_flags = [
  "nodejs_compat", # one
]
workers_dev = true

[vars]
GREETING = "a # not a comment"

[[d1_databases]]
binding = "DB"
database_id = "abc"

[[kv_namespaces]]
binding = "CACHE"
id = "x"
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.top["name"] != "api" || c.top["main"] != "worker.mjs" || c.top["compatibility_date"] != "2026-06-01" || c.top["workers_dev"] != "true" {
		t.Errorf("top-level keys: %v", c.top)
	}
	if c.tables["vars"]["GREETING"] != "a # not a comment" {
		t.Errorf("vars: %v", c.tables["vars"])
	}
	b := c.bindings()
	if b["DB"] != "d1_databases" || b["CACHE"] != "kv_namespaces" || b["GREETING"] != "vars" {
		t.Errorf("bindings: %v", b)
	}
	for src, line := range map[string]int{
		"name = \"api\nmain = 1":           1,
		"[vars]\nx":                        2,
		"a = [\n\"b\",":                    1,
		"\n\n[[d1_databases]\nbinding = 1": 3,
		"x = \"\"\"\nmulti\n\"\"\"":        1,
	} {
		_, err := parseWrangler(src)
		te, ok := err.(*tomlError)
		if !ok || te.line != line {
			t.Errorf("parseWrangler(%q) = %v, want an error at line %d", src, err, line)
		}
	}
}

// TestDoctorWrangler checks each wrangler.toml finding: the
// compatibility_date missing, malformed, in the future, old and recent; a
// placeholder database_id; a binding the code opens that is missing or of
// another kind; a var that is not in [vars].
func TestDoctorWrangler(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	write := func(s string) string {
		p := t.TempDir() + "/wrangler.toml"
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	scan := &edgeScan{
		bindings: []bindingUse{{name: "DB", kind: "d1_databases", pos: "main.go:10"}, {name: "HD", kind: "hyperdrive", pos: "main.go:20"}, {name: "ANY", pos: "main.go:40"}},
		vars:     map[string][]string{"TOKEN": {"main.go:30"}, "GREETING": {"main.go:31"}},
	}
	for _, c := range []struct {
		toml string
		scan *edgeScan
		want string
	}{
		{`compatibility_date = "2026-10-01"`, nil, ""},
		{`name = "x"`, nil, "error wrangler.compatibility-date"},
		{`compatibility_date = "01/10/2026"`, nil, "error wrangler.compatibility-date"},
		{`compatibility_date = "2027-01-01"`, nil, "error wrangler.compatibility-date"},
		{`compatibility_date = "2024-09-23"`, nil, "warning wrangler.compatibility-date"},
		{"compatibility_date = \"2026-10-01\"\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_id = \"00000000-0000-0000-0000-000000000000\"", nil, "error wrangler.placeholder"},
		{"compatibility_date = \"2026-10-01\"\n[vars]\nGREETING = \"hi\"\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_id = \"a1\"\n[[hyperdrive]]\nbinding = \"HD\"\nid = \"h\"\n[[r2_buckets]]\nbinding = \"ANY\"", scan, "info wrangler.var"},
		{"compatibility_date = \"2026-10-01\"\n[vars]\nGREETING = \"hi\"\nTOKEN = \"t\"\n[[kv_namespaces]]\nbinding = \"DB\"\nid = \"k\"", scan, "error wrangler.binding-kind, error wrangler.binding-missing, error wrangler.binding-missing"},
		{"compatibility_date = \"2026-10-01\"\nmain = \"x", nil, "error wrangler.parse"},
	} {
		fs := doctorWrangler(write(c.toml), c.scan, now)
		if got := ids(fs); got != c.want {
			t.Errorf("%q: findings %q, want %q: %v", c.toml, got, c.want, fs)
		}
		for _, f := range fs {
			if f.Message == "" || f.Fix == "" {
				t.Errorf("a finding without message or fix: %+v", f)
			}
		}
	}
	fs := doctorWrangler(write("compatibility_date = \"2026-10-01\"\n[[kv_namespaces]]\nbinding = \"DB\"\nid = \"k\"\n[vars]\nGREETING=\"\"\nTOKEN=\"\"\nANY=\"\"\n"), scan, now)
	if len(fs) != 2 || !strings.Contains(fs[0].Message, `main.go:10 opens "DB" as d1_databases`) || !strings.Contains(fs[0].Fix, "[[d1_databases]]") ||
		!strings.Contains(fs[1].Fix, `[[hyperdrive]] entry with binding = "HD"`) {
		t.Errorf("binding findings do not name the place and the fix: %v", fs)
	}
}

// TestSizeFindings checks the size finding against each platform's caps.
func TestSizeFindings(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		raw, gz int
		target  string
		want    string
		has     string
	}{
		{4 * mb, 900 << 10, "vercel", "info edge.size", "within the Vercel Edge cap"},
		{5 * mb, 1400 << 10, "vercel", "warning edge.size", "over the Vercel Edge cap of Hobby (1.00 MB gzipped); fits Pro (2.00 MB gzipped), Enterprise (4.00 MB gzipped)"},
		{20 * mb, 5 * mb, "vercel", "error edge.size", "over every Vercel Edge cap"},
		{20 * mb, 5 * mb, "cloudflare", "info edge.size", "within the Cloudflare Workers cap"},
		{70 * mb, 20 * mb, "cloudflare", "error edge.size", "over every Cloudflare Workers cap: any (64.00 MB raw)"},
		{20 * mb, 5 * mb, "", "warning edge.size, info edge.size", "over every Vercel Edge cap"},
	} {
		fs := sizeFindings(c.raw, c.gz, c.target)
		if got := ids(fs); got != c.want || !strings.Contains(fs[0].Message, c.has) {
			t.Errorf("%d/%d on %q: %v, want %s with %q", c.raw, c.gz, c.target, fs, c.want, c.has)
		}
	}
	if fs := sizeFindings(20*mb, 5*mb, "vercel"); !strings.Contains(fs[0].Fix, "Node.js runtime") {
		t.Errorf("over Vercel's caps, the fix does not name the Node.js runtime: %s", fs[0].Fix)
	}
}

// edgeBad is an edge program that makes every mistake doctor --edge finds.
const edgeBad = `package main

import (
	"context"
	"net/http"
	"os"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/d1"
	"github.com/forge-orm/forge/edge/workers"
	"github.com/lib/pq"
)

var _ = http.StatusOK
var _ = pq.Name

var Schema = forge.MustSchema()

func main() {
	workers.Serve(func(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
		cfg, _ := os.ReadFile("config.json")
		_ = cfg
		conn, err := d1.FromEnv(env, "DB")
		if err != nil {
			return nil, err
		}
		db, _ := forge.Open(Schema, conn)
		err = db.Transaction(ctx, func(tx *forge.Tx) error { return nil })
		_ = env.Binding("ASSETS")
		return workers.Text(200, env.Var("GREETING"))
	})
}
`

// edgeGood is an edge program doctor --edge finds nothing wrong with.
const edgeGood = `package main

import (
	"context"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/d1"
	"github.com/forge-orm/forge/edge/workers"
)

var Schema = forge.MustSchema()

func main() {
	workers.Serve(func(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
		conn, err := d1.FromEnv(env, "DB")
		if err != nil {
			return nil, err
		}
		if _, err := forge.Open(Schema, conn); err != nil {
			return nil, err
		}
		return workers.Text(200, "ok")
	})
}
`

// TestDoctorEdge runs forge doctor --edge on a program with every mistake
// (a TCP driver, net/http, a file read, db.Transaction over D1, a binding
// wrangler.toml lacks, a stale compatibility_date), on one that never
// calls workers.Serve, on a correct one, and on one using pgx through the
// hyperdrive module (not a TCP driver there), in text and JSON, and checks
// the exit codes.
func TestDoctorEdge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two wasm programs")
	}
	t.Parallel()
	a := newApp(t, map[string]string{
		"bad/main.go":       edgeBad,
		"bad/wrangler.toml": "compatibility_date = \"2023-01-01\"\n[[kv_namespaces]]\nbinding = \"OTHER\"\nid = \"k\"\n",
		"good/main.go":      edgeGood,
		"good/wrangler.toml": fmt.Sprintf("compatibility_date = %q\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"app\"\ndatabase_id = \"5d0e2f44-1c55-4b61-9d3e-3c4e0b8b1a11\"\n",
			time.Now().AddDate(0, -1, 0).Format("2006-01-02")),
		"noserve/main.go": "package main\n\nfunc main() {}\n",
		"pq/go.mod":       "module github.com/lib/pq\n\ngo 1.26.0\n",
		"pq/pq.go":        "// Package pq stands in for the PostgreSQL driver of that name.\npackage pq\n\nconst Name = \"pq\"\n",
	})
	// Stand-ins for the hyperdrive module and pgx, which it runs over the
	// Worker's sockets.
	a.write("hdstub/go.mod", "module github.com/forge-orm/forge/hyperdrive\n\ngo 1.26.0\n\nrequire github.com/jackc/pgx/v5 v5.0.0\n")
	a.write("hdstub/hd.go", "// Package hyperdrive stands in for forge's Hyperdrive driver.\npackage hyperdrive\n\nimport (\n\t\"context\"\n\n\t\"github.com/jackc/pgx/v5\"\n)\n\nfunc Open(ctx context.Context, env any, name string) (any, error) { return pgx.Name, nil }\n")
	a.write("pgxstub/go.mod", "module github.com/jackc/pgx/v5\n\ngo 1.26.0\n")
	a.write("pgxstub/pgx.go", "// Package pgx stands in for pgx.\npackage pgx\n\nconst Name = \"pgx\"\n")
	a.write("hd/main.go", strings.Replace(strings.Replace(edgeGood, `"github.com/forge-orm/forge/d1"`, `"github.com/forge-orm/forge/hyperdrive"`, 1),
		`conn, err := d1.FromEnv(env, "DB")
		if err != nil {
			return nil, err
		}
		if _, err := forge.Open(Schema, conn); err != nil {
			return nil, err
		}`, `if _, err := hyperdrive.Open(ctx, env, "HD"); err != nil {
			return nil, err
		}`, 1))
	a.write("hd/wrangler.toml", fmt.Sprintf("compatibility_date = %q\n[[hyperdrive]]\nbinding = \"HD\"\nid = \"h\"\n", time.Now().AddDate(0, -1, 0).Format("2006-01-02")))
	a.write("go.mod", a.read("go.mod")+`
require (
	github.com/lib/pq v0.0.0
	github.com/forge-orm/forge/hyperdrive v0.0.0
	github.com/jackc/pgx/v5 v5.0.0
)

replace (
	github.com/lib/pq => ./pq
	github.com/forge-orm/forge/hyperdrive => ./hdstub
	github.com/jackc/pgx/v5 => ./pgxstub
)
`)

	r := a.must(1, "doctor", "--edge", "./bad")
	for _, want := range []string{
		"error   edge.tcp-driver: the edge build links github.com/lib/pq (imported by example.com/app/bad)",
		"error   edge.net-http: the edge build links net/http (imported by example.com/app/bad",
		"error   edge.filesystem: main.go:21 (os.ReadFile) reads or writes files",
		"error   edge.transactions: db.Transaction is called (main.go:28) and the program uses the d1 driver",
		"fix: write atomically with db.Batch",
		`error   wrangler.binding-missing: main.go:23 opens the binding "DB"`,
		`fix: add a [[d1_databases]] entry with binding = "DB"`,
		"warning wrangler.compatibility-date: compatibility_date 2023-01-01 is more than a year old",
		`info    wrangler.var: main.go:30 reads the var "GREETING"`,
		`error   wrangler.binding-missing: main.go:29 opens the binding "ASSETS"`,
		"info    edge.size: the wasm is",
		"over the Vercel Edge cap of Hobby (1.00 MB gzipped)",
	} {
		contains(t, r, want)
	}

	r = a.must(0, "doctor", "--edge", "./good", "--target", "vercel", "--wrangler", "good/wrangler.toml", "--json")
	var out struct {
		Findings []struct{ ID, Severity, Message, Fix string }
		Errors   int
		Warnings int
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%s", err, r)
	}
	if out.Errors != 0 || out.Warnings != 0 || len(out.Findings) != 1 || out.Findings[0].ID != "edge.size" || out.Findings[0].Severity != "info" ||
		!strings.Contains(out.Findings[0].Message, "within the Vercel Edge cap") {
		t.Errorf("the correct program: %+v", out)
	}

	r = a.must(0, "doctor", "--edge", "./hd")
	if strings.Contains(r.stdout, "edge.tcp-driver") || !strings.Contains(r.stdout, "0 error(s), 0 warning(s)") {
		t.Errorf("pgx through the hyperdrive module: %s", r)
	}

	r = a.must(1, "doctor", "--edge", "./noserve")
	contains(t, r, "error   edge.no-serve: ./noserve does not link github.com/forge-orm/forge/edge/workers")
	contains(t, r, "fix: call workers.Serve(handler) in main")

	a.must(exitUsage, "doctor")
	a.must(exitUsage, "doctor", "--edge", "./good", "--target", "deno")
	a.must(exitUsage, "doctor", "--schema", "./models")
}

// TestDoctorDB checks --db: a database that does not answer, drift from
// --schema, and no finding once the schema is pushed; on SQLite and
// PostgreSQL.
func TestDoctorDB(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{"models/models.go": modelsV1})
	r := a.must(1, "doctor", "--db", "sqlite:"+t.TempDir()+"/missing.db")
	contains(t, r, "error   db.unreachable: the SQLite database")
	r = a.must(1, "doctor", "--db", "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=5")
	contains(t, r, "error   db.unreachable: cannot connect to")
	eachDB(t, func(t *testing.T, db *testDB) {
		r := a.must(1, "doctor", "--db", db.url, "--schema", "./models", "--json")
		var out struct {
			Findings []struct{ ID, Severity, Message, Fix string }
			Errors   int
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("--json: %v\n%s", err, r)
		}
		if out.Errors != 1 || len(out.Findings) != 1 || out.Findings[0].ID != "schema.drift" || !strings.Contains(out.Findings[0].Fix, "forge push") {
			t.Errorf("drift: %+v", out)
		}
		a.must(0, "push", "--db", db.url, "--schema", "./models")
		r = a.must(0, "doctor", "--db", db.url, "--schema", "./models")
		if strings.TrimSpace(r.stdout) != "0 error(s), 0 warning(s), 0 note(s)" {
			t.Errorf("after push: %s", r)
		}
	})
}

// TestDoctorGateway checks --gateway-db with forge gateway's own role
// check: the test server's superuser is an error; a role with only table
// privileges is fine.
func TestDoctorGateway(t *testing.T) {
	t.Parallel()
	db := pgDB(t)
	a := newApp(t, nil)
	r := a.must(1, "doctor", "--gateway-db", os.Getenv("FORGE_TEST_PG_DSN"))
	contains(t, r, "error   gateway.role: the PostgreSQL role")
	contains(t, r, "is a superuser")
	contains(t, r, "fix: give forge gateway a role with only what its clients need")

	role := fmt.Sprintf("forgecli_gw_%d", time.Now().UnixNano())
	db.exec(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() {
		_, _ = db.conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+role, nil)
	})
	u := strings.Replace(os.Getenv("FORGE_TEST_PG_DSN"), "postgres@", role+"@", 1)
	if !strings.Contains(u, role+"@") {
		t.Skip("FORGE_TEST_PG_DSN does not name the user postgres@: cannot derive another role's URL")
	}
	r = a.must(0, "doctor", "--gateway-db", u)
	contains(t, r, "0 error(s)")
	a.must(1, "doctor", "--gateway-db", "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=5")
}

// FuzzParseWrangler checks that any text parses or is a *tomlError with a
// line in the text, never a panic.
func FuzzParseWrangler(f *testing.F) {
	for _, s := range []string{"name = \"a\"\n[[d1_databases]]\nbinding = \"DB\"", "a = [\n1,\n{b = 2}]", "x = 'y' # c", "[vars]\nA = \"\\u00e9\"", "[[", "a = \"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := parseWrangler(src)
		if err != nil {
			te, ok := err.(*tomlError)
			if !ok || te.line < 1 || te.line > strings.Count(src, "\n")+1 {
				t.Fatalf("parseWrangler(%q): %v", src, err)
			}
			return
		}
		_ = c.bindings()
	})
}
