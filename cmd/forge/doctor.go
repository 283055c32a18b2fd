package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/schema"
)

var doctorCmd = &command{
	name:    "doctor",
	summary: "check that a setup will work, and say what to change when it will not",
	usage: `Usage: forge doctor [--db URL [--schema DIR[:Var]]] [--edge PKG [--target cloudflare|vercel]]
                    [--wrangler FILE] [--gateway-db URL] [--json]

Doctor checks what it is given and prints one finding a line: its severity,
an id, what is wrong and how to fix it. It only reads (and builds PKG into a
temporary folder).

  --db URL            the database answers; with --schema, its tables match the models
                      (ids db.unreachable, schema.drift, schema.inspect)
  --edge PKG          an edge program (a Go package calling workers.Serve), built for
                      GOOS=js GOARCH=wasm: no TCP driver, no net/http, no file access,
                      workers.Serve linked, no db.Transaction over D1 or Neon, and its
                      gzipped size against each platform's cap (edge.tcp-driver,
                      edge.net-http, edge.filesystem, edge.no-serve, edge.transactions,
                      edge.size)
  --target T          the edge platform, cloudflare or vercel: its size caps only, and over
                      them all is an error (default: every platform's, as warnings)
  --wrangler FILE     the bindings the program opens exist in FILE and are of the right
                      kind, database ids are set, compatibility_date is recent
                      (wrangler.binding-missing, wrangler.binding-kind, wrangler.placeholder,
                      wrangler.compatibility-date, wrangler.parse); default: wrangler.toml
                      in PKG's folder when --edge is given (not --target vercel) and it has one
  --gateway-db URL    the PostgreSQL role forge gateway connects as is not a superuser
                      and cannot run programs or touch server files (gateway.role)
  --json              print {"findings": [{"id", "severity", "message", "fix"}], "errors": N,
                      "warnings": N}

Exit codes: 0 when no finding is an error, 1 when one is, 64 for a bad
command line.

Examples:
  forge doctor --db "$DATABASE_URL" --schema ./models
  forge doctor --edge ./cmd/worker --wrangler wrangler.toml
  forge doctor --edge ./api --target vercel --json
  forge doctor --gateway-db postgres://gateway@10.0.0.5/app
`,
}

func init() { doctorCmd.run = runDoctor }

// doctorNow is the clock of the compatibility_date check.
var doctorNow = time.Now

// findingsError ends forge doctor with exit code 1: a finding was an error.
type findingsError struct{ n int }

func (e *findingsError) Error() string { return fmt.Sprintf("%d finding(s) are errors", e.n) }

func runDoctor(e *env, args []string) error {
	c := doctorCmd
	fs := newFlags(c)
	schemaArg, dbArg := schemaFlag(fs), fs.String("db", "", "")
	edgePkg := fs.String("edge", "", "")
	target := fs.String("target", "", "")
	wranglerFile := fs.String("wrangler", "", "")
	gatewayDB := fs.String("gateway-db", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseArgs(e, c, fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(c, pos); err != nil {
		return err
	}
	if *dbArg == "" && *edgePkg == "" && *wranglerFile == "" && *gatewayDB == "" {
		return usagef("doctor: give what to check: --db, --edge, --wrangler or --gateway-db (forge help doctor)")
	}
	if *schemaArg != "" && *dbArg == "" {
		return usagef("doctor: --schema needs --db (the database to compare the models with)")
	}
	if *target != "" && *target != "cloudflare" && *target != "vercel" {
		return usagef("doctor: --target %q: want cloudflare or vercel", *target)
	}

	var findings []forge.Finding
	var scan *edgeScan
	if *edgePkg != "" {
		var more []forge.Finding
		more, scan, err = doctorEdge(e.ctx, *edgePkg, *target)
		if err != nil {
			return err
		}
		findings = append(findings, more...)
		if *wranglerFile == "" && *target != "vercel" && scan.dir != "" {
			if p := filepath.Join(scan.dir, "wrangler.toml"); fileExists(p) {
				*wranglerFile = p
			}
		}
	}
	if *wranglerFile != "" {
		findings = append(findings, doctorWrangler(*wranglerFile, scan, doctorNow())...)
	}
	if *dbArg != "" {
		more, err := doctorDB(e, *dbArg, *schemaArg, scan)
		if err != nil {
			return err
		}
		findings = append(findings, more...)
	}
	if *gatewayDB != "" {
		findings = append(findings, doctorGateway(e.ctx, *gatewayDB)...)
	}
	return report(e, findings, *asJSON)
}

// report prints the findings, errors first, and returns a findingsError
// when one is an error.
func report(e *env, findings []forge.Finding, asJSON bool) error {
	slices.SortStableFunc(findings, func(a, b forge.Finding) int { return int(b.Severity) - int(a.Severity) })
	var errs, warns int
	for _, f := range findings {
		switch f.Severity {
		case forge.Error:
			errs++
		case forge.Warning:
			warns++
		}
	}
	if asJSON {
		type jf struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Fix      string `json:"fix"`
		}
		out := struct {
			Findings []jf `json:"findings"`
			Errors   int  `json:"errors"`
			Warnings int  `json:"warnings"`
		}{Findings: []jf{}, Errors: errs, Warnings: warns}
		for _, f := range findings {
			out.Findings = append(out.Findings, jf{f.ID, f.Severity.String(), f.Message, f.Fix})
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		e.printf("%s\n", b)
	} else {
		for _, f := range findings {
			e.printf("%-7s %s: %s\n", f.Severity, f.ID, f.Message)
			if f.Fix != "" {
				e.printf("        fix: %s\n", f.Fix)
			}
		}
		e.printf("%d error(s), %d warning(s), %d note(s)\n", errs, warns, len(findings)-errs-warns)
	}
	if errs > 0 {
		return &findingsError{n: errs}
	}
	return nil
}

// doctorDB checks the database (and its drift from --schema) with
// forge.DoctorConn. A database that does not open is a finding, not a
// failure of the command.
func doctorDB(e *env, dbArg, schemaArg string, scan *edgeScan) ([]forge.Finding, error) {
	u, err := parseDB(dbArg)
	if err != nil {
		return nil, err
	}
	var desired *schema.Schema
	if schemaArg != "" {
		spec, err := parseSchemaSpec(schemaArg)
		if err != nil {
			return nil, err
		}
		if desired, err = loadSchema(e.ctx, spec); err != nil {
			return nil, err
		}
	}
	conn, err := u.open(e.ctx, true)
	if err != nil {
		return []forge.Finding{{ID: forge.FindingUnreachable, Severity: forge.Error,
			Message: strings.Join(strings.Fields(err.Error()), " "),
			Fix:     "check --db: the URL, credentials, and that the server is running and reachable from here"}}, nil
	}
	defer conn.Close()
	var opts []forge.DoctorOption
	if scan != nil && len(scan.transactions) > 0 {
		opts = append(opts, forge.UsesTransactions())
	}
	return forge.DoctorConn(e.ctx, conn, conn.Dialect(), desired, opts...), nil
}

// doctorGateway runs forge gateway's role check on the role of dsn.
func doctorGateway(ctx context.Context, dsn string) []forge.Finding {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pg, err := pgconn.Connect(ctx, dsn)
	if err != nil {
		return []forge.Finding{{ID: "gateway.unreachable", Severity: forge.Error,
			Message: "could not connect as the gateway's role: " + strings.Join(strings.Fields(redact(err.Error())), " "),
			Fix:     "check --gateway-db: the URL forge gateway's --db uses"}}
	}
	defer pg.Close(context.Background())
	err = gateway.CheckRole(ctx, pg)
	var re *gateway.RoleError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return []forge.Finding{{ID: "gateway.role", Severity: forge.Error,
			Message: strings.TrimPrefix(re.Message, "forge gateway: "),
			Fix: "give forge gateway a role with only what its clients need, e.g. CREATE ROLE app_gateway LOGIN PASSWORD '...'; " +
				"GRANT USAGE ON SCHEMA app TO app_gateway; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO app_gateway (the gateway refuses to start otherwise)"}}
	}
	return []forge.Finding{{ID: "gateway.role", Severity: forge.Warning,
		Message: "could not read the role's attributes: " + strings.Join(strings.Fields(err.Error()), " "),
		Fix:     "run the check as the role forge gateway uses, on a server where it can read pg_roles"}}
}

// edgeScan is what doctorEdge learnt of the program's source.
type edgeScan struct {
	dir          string
	deps         map[string]bool
	transactions []string            // positions of .Transaction( calls
	bindings     []bindingUse        // bindings the code opens
	vars         map[string][]string // env.Var names -> positions
}

// bindingUse is a binding the code opens by a constant name.
type bindingUse struct {
	name, kind, pos string // kind: a wrangler.toml array name (d1_databases, hyperdrive)
}

// bindingOpeners are the functions that open a binding by name (a string
// literal argument), by import path, with the wrangler.toml kind of
// binding they need.
var bindingOpeners = map[string]map[string]opener{
	"github.com/forge-orm/forge/d1":         {"FromEnv": {"d1_databases", 1}},
	"github.com/forge-orm/forge/hyperdrive": {"Open": {"hyperdrive", 2}},
}

// bindingMethods are the methods of edge/workers' Env that open a binding
// by name; an empty kind is any binding.
var bindingMethods = map[string]opener{"KV": {"kv_namespaces", 0}, "Binding": {"", 0}}

// opener is a function opening a binding: the binding's kind and which
// argument names it.
type opener struct {
	kind string
	arg  int
}

// tcpDrivers are packages that need TCP or a local file, which an edge
// runtime does not give (pgx is fine through Hyperdrive's sockets: the
// forge/hyperdrive module).
var tcpDrivers = []string{
	"github.com/forge-orm/forge/sqlite", "github.com/forge-orm/forge/pgx", "github.com/forge-orm/forge/mysql",
	"modernc.org/sqlite", "github.com/mattn/go-sqlite3", "github.com/lib/pq",
	"github.com/go-sql-driver/mysql", "github.com/jackc/pgx/v5",
}

// fsCalls are os functions that touch the filesystem.
var fsCalls = []string{"Open", "OpenFile", "Create", "ReadFile", "WriteFile", "ReadDir", "Mkdir", "MkdirAll", "Remove", "RemoveAll", "Stat", "Lstat", "Chdir", "Getwd", "DirFS"}

func doctorEdge(ctx context.Context, pkg, target string) ([]forge.Finding, *edgeScan, error) {
	jsEnv := append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	goCmd := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Env = jsEnv
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("--edge %s: GOOS=js GOARCH=wasm go %s: %v\n%s", pkg, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out.String(), nil
	}
	info, err := goCmd("list", "-f", "{{.Name}}\t{{.Dir}}\t{{join .GoFiles \",\"}}", pkg)
	if err != nil {
		return nil, nil, err
	}
	parts := strings.Split(strings.TrimSpace(info), "\t")
	if len(parts) != 3 || parts[0] != "main" {
		return nil, nil, usagef("doctor: --edge %s is not a main package (the program an edge runtime runs)", pkg)
	}
	scan := &edgeScan{dir: parts[1], deps: map[string]bool{}, vars: map[string][]string{}}
	list, err := goCmd("list", "-deps", "-f", "{{.ImportPath}}\t{{join .Imports \" \"}}", pkg)
	if err != nil {
		return nil, nil, err
	}
	importers := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		p, imps, _ := strings.Cut(l, "\t")
		scan.deps[p] = true
		for _, i := range strings.Fields(imps) {
			importers[i] = append(importers[i], p)
		}
	}
	var fs []forge.Finding
	if !scan.deps["github.com/forge-orm/forge/edge/workers"] {
		fs = append(fs, forge.Finding{ID: "edge.no-serve", Severity: forge.Error,
			Message: pkg + " does not link github.com/forge-orm/forge/edge/workers: nothing answers the runtime's requests",
			Fix:     "call workers.Serve(handler) in main (see edge/workers), and build with forge-worker build"})
	}
	hyperdrive := scan.deps["github.com/forge-orm/forge/hyperdrive"]
	for _, d := range tcpDrivers {
		// Through Hyperdrive, pgx (and forge's pgx driver) run over the
		// runtime's sockets.
		overSockets := hyperdrive && (d == "github.com/forge-orm/forge/pgx" || strings.HasPrefix(d, "github.com/jackc/pgx/"))
		if scan.deps[d] && !overSockets {
			fs = append(fs, forge.Finding{ID: "edge.tcp-driver", Severity: forge.Error,
				Message: fmt.Sprintf("the edge build links %s (imported by %s), which needs TCP or a local file: an edge runtime has neither", d, strings.Join(importers[d], ", ")),
				Fix:     "open the database through an HTTP or binding driver: d1 (a D1 binding), neon (Neon or forge gateway), libsql (Turso, sqld, forge gateway), planetscale (PlanetScale, forge gateway on MySQL), or PostgreSQL through Cloudflare Hyperdrive"})
		}
	}
	if scan.deps["net/http"] {
		fs = append(fs, forge.Finding{ID: "edge.net-http", Severity: forge.Error,
			Message: fmt.Sprintf("the edge build links net/http (imported by %s): about 1.85 MB more gzipped, over Vercel's Hobby cap alone, and a slower first request", strings.Join(importers["net/http"], ", ")),
			Fix:     "use edge/workers' Request and Response, and give drivers fetch/jsfetch.New() (a fetch.Fetcher over the runtime's fetch)"})
	}
	if err := scan.source(pkg, parts[1], strings.Split(parts[2], ",")); err != nil {
		return nil, nil, err
	}
	if len(scan.transactions) > 0 {
		for _, d := range []string{"github.com/forge-orm/forge/d1", "github.com/forge-orm/forge/neon", "github.com/forge-orm/forge/d1rest"} {
			if scan.deps[d] {
				fs = append(fs, forge.Finding{ID: "edge.transactions", Severity: forge.Error,
					Message: fmt.Sprintf("db.Transaction is called (%s) and the program uses the %s driver, which has no interactive transactions: it fails with a *forge.CapabilityError", strings.Join(scan.transactions, ", "), filepath.Base(d)),
					Fix:     "write atomically with db.Batch(ctx, ops...) (all or nothing, one round trip), reading before the batch"})
			}
		}
	}
	for _, pos := range scan.fsCalls(pkg, parts[1], strings.Split(parts[2], ",")) {
		fs = append(fs, forge.Finding{ID: "edge.filesystem", Severity: forge.Error,
			Message: pos + " reads or writes files: an edge runtime has no filesystem, the call fails at run time",
			Fix:     "embed read-only files with //go:embed, keep data in the database (or KV, R2), and configuration in env vars"})
	}
	raw, gz, err := doctorBuild(ctx, pkg, jsEnv)
	if err != nil {
		return nil, nil, err
	}
	return append(fs, sizeFindings(raw, gz, target)...), scan, nil
}

// source reads the package's Go files (of the js/wasm build) for calls
// that matter at the edge.
func (s *edgeScan) source(pkg, dir string, files []string) error {
	return s.walk(dir, files, func(fset *token.FileSet, f *ast.File, imports map[string]string, call *ast.CallExpr, sel *ast.SelectorExpr) {
		pos := fset.Position(call.Pos())
		where := filepath.Base(pos.Filename) + ":" + strconv.Itoa(pos.Line)
		if sel.Sel.Name == "Transaction" && imports["github.com/forge-orm/forge"] != "" {
			s.transactions = append(s.transactions, where)
		}
		if x, ok := sel.X.(*ast.Ident); ok {
			for path, fns := range bindingOpeners {
				if o, ok := fns[sel.Sel.Name]; ok && imports[path] == x.Name {
					if name := stringArg(call, o.arg); name != "" {
						s.bindings = append(s.bindings, bindingUse{name: name, kind: o.kind, pos: where})
					}
				}
			}
		}
		if o, ok := bindingMethods[sel.Sel.Name]; ok && imports["github.com/forge-orm/forge/edge/workers"] != "" && len(call.Args) == 1 {
			if name := stringArg(call, o.arg); name != "" {
				s.bindings = append(s.bindings, bindingUse{name: name, kind: o.kind, pos: where})
			}
		}
		if sel.Sel.Name == "Var" && len(call.Args) == 1 {
			if v := stringArg(call, 0); v != "" {
				s.vars[v] = append(s.vars[v], where)
			}
		}
	})
}

// fsCalls returns the positions of calls of os functions that touch files.
func (s *edgeScan) fsCalls(pkg, dir string, files []string) []string {
	var out []string
	_ = s.walk(dir, files, func(fset *token.FileSet, f *ast.File, imports map[string]string, call *ast.CallExpr, sel *ast.SelectorExpr) {
		if x, ok := sel.X.(*ast.Ident); ok && imports["os"] == x.Name && slices.Contains(fsCalls, sel.Sel.Name) {
			pos := fset.Position(call.Pos())
			out = append(out, fmt.Sprintf("%s:%d (os.%s)", filepath.Base(pos.Filename), pos.Line, sel.Sel.Name))
		}
	})
	return out
}

func (s *edgeScan) walk(dir string, files []string, visit func(*token.FileSet, *ast.File, map[string]string, *ast.CallExpr, *ast.SelectorExpr)) error {
	fset := token.NewFileSet()
	for _, name := range files {
		if name == "" {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("--edge: %w", err)
		}
		imports := map[string]string{} // import path -> local name
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			local := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				local = im.Name.Name
			}
			imports[p] = local
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					visit(fset, f, imports, call, sel)
				}
			}
			return true
		})
	}
	return nil
}

// stringArg returns call's argument i when it is a string literal.
func stringArg(call *ast.CallExpr, i int) string {
	if i >= len(call.Args) {
		return ""
	}
	lit, ok := call.Args[i].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return ""
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		return ""
	}
	return s
}

// doctorBuild builds pkg as forge-worker does and returns its size, raw
// and gzipped.
func doctorBuild(ctx context.Context, pkg string, jsEnv []string) (raw, gz int, err error) {
	dir, err := os.MkdirTemp("", "forge-doctor-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	wasm := filepath.Join(dir, "app.wasm")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", wasm, pkg)
	cmd.Env = jsEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("--edge %s: GOOS=js GOARCH=wasm go build: %v\n%s", pkg, err, out)
	}
	b, err := os.ReadFile(wasm)
	if err != nil {
		return 0, 0, err
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return len(b), z.Len(), nil
}

// sizeFindings compares a build's size (raw and gzipped) with each
// platform's caps (workers.SizeCaps), or only target's ("cloudflare",
// "vercel"). Over every cap of a platform is an error for the target
// platform, a warning when no target was given.
func sizeFindings(raw, gz int, target string) []forge.Finding {
	platforms := map[string]string{"cloudflare": "Cloudflare Workers", "vercel": "Vercel Edge"}
	var out []forge.Finding
	var seen []string
	for _, c := range workers.SizeCaps {
		if slices.Contains(seen, c.Platform) || (target != "" && platforms[target] != c.Platform) {
			continue
		}
		seen = append(seen, c.Platform)
		out = append(out, platformSize(raw, gz, c.Platform, target != ""))
	}
	return out
}

// platformSize is the size finding for one platform.
func platformSize(raw, gz int, platform string, isTarget bool) forge.Finding {
	var fits, over []string
	for _, c := range workers.SizeCaps {
		if c.Platform != platform {
			continue
		}
		n, how := raw, "raw"
		if c.Gzipped {
			n, how = gz, "gzipped"
		}
		label := fmt.Sprintf("%s (%s %s)", c.Plan, mb(c.Bytes), how)
		if n <= c.Bytes {
			fits = append(fits, label)
		} else {
			over = append(over, label)
		}
	}
	msg := fmt.Sprintf("the wasm is %s raw, %s gzipped", mb(raw), mb(gz))
	shrink := "drop what the program links that it does not need (net/http, encoding/json through workers.LeanJSON, fmt); see scripts/edge-bench"
	switch {
	case len(over) == 0:
		return forge.Finding{ID: "edge.size", Severity: forge.Info, Message: msg + ": within the " + platform + " cap; size still costs start time", Fix: shrink}
	case len(fits) == 0:
		sev, fix := forge.Warning, shrink
		if isTarget {
			sev = forge.Error
		}
		if platform == "Vercel Edge" {
			fix = "run on a Vercel Function with the Node.js runtime instead (a plain Go server with the pgx driver), or " + shrink
		}
		return forge.Finding{ID: "edge.size", Severity: sev, Message: msg + ": over every " + platform + " cap: " + strings.Join(over, ", "), Fix: fix}
	}
	return forge.Finding{ID: "edge.size", Severity: forge.Warning, Message: msg + ": over the " + platform + " cap of " + strings.Join(over, ", ") + "; fits " + strings.Join(fits, ", "), Fix: "deploy on a plan it fits, or " + shrink}
}

func mb(n int) string { return fmt.Sprintf("%.2f MB", float64(n)/(1<<20)) }

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// doctorWrangler checks wrangler.toml against the bindings the code opens
// (when scan is not nil) and its compatibility_date against now.
func doctorWrangler(path string, scan *edgeScan, now time.Time) []forge.Finding {
	src, err := os.ReadFile(path)
	if err != nil {
		return []forge.Finding{{ID: "wrangler.parse", Severity: forge.Error, Message: "cannot read " + path + ": " + err.Error(), Fix: "check --wrangler"}}
	}
	cfg, err := parseWrangler(string(src))
	if err != nil {
		return []forge.Finding{{ID: "wrangler.parse", Severity: forge.Error, Message: path + ": " + err.Error(), Fix: "fix the TOML at that line (wrangler reads the same file)"}}
	}
	var fs []forge.Finding
	date := cfg.top["compatibility_date"]
	t, perr := time.Parse("2006-01-02", date)
	switch {
	case date == "":
		fs = append(fs, forge.Finding{ID: "wrangler.compatibility-date", Severity: forge.Error, Message: path + " sets no compatibility_date: wrangler refuses to deploy",
			Fix: `add compatibility_date = "` + now.AddDate(0, -1, 0).Format("2006-01-02") + `" (a recent date your wrangler knows)`})
	case !datePattern.MatchString(date) || perr != nil:
		fs = append(fs, forge.Finding{ID: "wrangler.compatibility-date", Severity: forge.Error, Message: fmt.Sprintf("compatibility_date %q is not a date (YYYY-MM-DD)", date), Fix: "write it as YYYY-MM-DD"})
	case t.After(now.AddDate(0, 0, 1)):
		fs = append(fs, forge.Finding{ID: "wrangler.compatibility-date", Severity: forge.Error, Message: "compatibility_date " + date + " is in the future: wrangler refuses a date newer than its runtime",
			Fix: "set it to today's date or earlier"})
	case t.Before(now.AddDate(-1, 0, 0)):
		fs = append(fs, forge.Finding{ID: "wrangler.compatibility-date", Severity: forge.Warning,
			Message: fmt.Sprintf("compatibility_date %s is more than a year old: the Worker runs with the runtime's behaviour of that day", date),
			Fix:     "move it to a recent date and rerun your tests (see Cloudflare's compatibility dates list for what changes)"})
	}
	declared := cfg.bindings()
	for _, e := range cfg.arrays["d1_databases"] {
		if id := e["database_id"]; strings.Trim(id, "0-") == "" {
			fs = append(fs, forge.Finding{ID: "wrangler.placeholder", Severity: forge.Error,
				Message: fmt.Sprintf("the D1 binding %q has database_id %q, a placeholder", e["binding"], id),
				Fix:     "create the database with npx wrangler d1 create NAME and put the database_id it prints in " + path})
		}
	}
	if scan == nil {
		return fs
	}
	for _, b := range scan.bindings {
		kind, ok := declared[b.name]
		switch {
		case !ok:
			fs = append(fs, forge.Finding{ID: "wrangler.binding-missing", Severity: forge.Error,
				Message: fmt.Sprintf("%s opens the binding %q, which %s does not declare", b.pos, b.name, path),
				Fix:     bindingFix(b, path)})
		case b.kind != "" && kind != b.kind:
			fs = append(fs, forge.Finding{ID: "wrangler.binding-kind", Severity: forge.Error,
				Message: fmt.Sprintf("%s opens %q as %s, but %s declares it under %s", b.pos, b.name, b.kind, path, kind),
				Fix:     fmt.Sprintf("declare %q under [[%s]] (or open the binding the code means)", b.name, b.kind)})
		}
	}
	var names []string
	for v := range scan.vars {
		names = append(names, v)
	}
	slices.Sort(names)
	for _, v := range names {
		if _, ok := declared[v]; !ok {
			fs = append(fs, forge.Finding{ID: "wrangler.var", Severity: forge.Info,
				Message: fmt.Sprintf("%s reads the var %q, which %s's [vars] does not set: it must be a secret, or it reads as \"\"", scan.vars[v][0], v, path),
				Fix:     fmt.Sprintf("npx wrangler secret put %s, or add it under [vars]", v)})
		}
	}
	return fs
}

// bindingFix says how to declare a missing binding.
func bindingFix(b bindingUse, path string) string {
	if b.kind == "" {
		return fmt.Sprintf("declare a binding named %q in %s (under the kind of resource the code expects)", b.name, path)
	}
	return fmt.Sprintf("add a [[%s]] entry with binding = %q to %s", b.kind, b.name, path)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
