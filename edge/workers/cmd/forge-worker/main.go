// Command forge-worker builds a Go program that calls workers.Serve into a
// folder that wrangler deploys as a Cloudflare Worker, or that Vercel
// deploys as an Edge Function.
//
//	go run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -o DIR [flags] PKG
//
// With -target cloudflare (the default) it writes into DIR:
//
//	app.wasm       PKG built with GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w"
//	wasm_exec.js   copied from $(go env GOROOT)/lib/wasm (the same Go that built app.wasm)
//	worker.mjs     the entry module (edge/workers/js/worker.mjs)
//	wrangler.toml  a template, only when DIR has none yet (it is yours to edit)
//
// With -target vercel, DIR is the Vercel project's folder and it writes
// the Build Output API (version 3) layout that `vercel deploy --prebuilt`
// uploads:
//
//	.vercel/output/config.json                       {"version": 3, routes: static files, then every path to the function}
//	.vercel/output/functions/NAME.func/.vc-config.json  {"runtime": "edge", "entrypoint": "index.mjs", ...}
//	.vercel/output/functions/NAME.func/index.mjs     the entry module (workers.VercelEntryModule)
//	.vercel/output/functions/NAME.func/wasm_exec.js  as above
//	.vercel/output/functions/NAME.func/app.wasm      as above, imported as "./app.wasm?module"
//
// and checks the function's gzipped size against Vercel's Edge caps
// (1 MB Hobby, 2 MB Pro, 4 MB Enterprise): it says which plans it fits.
//
// Flags of build:
//
//	-o DIR                 the output folder (required; created if needed)
//	-target T              cloudflare or vercel (default cloudflare)
//	-name NAME             the Worker's or function's name (default: the package folder's name)
//	-compatibility-date D  compatibility_date in wrangler.toml (default 2025-06-01; cloudflare only)
//	-env NAMES             comma-separated environment variables the function reads (vercel only:
//	                       .vc-config.json's envVarsInUse)
//	-tags TAGS             extra build tags, as for go build
//
// The go command on PATH does the build, from the current directory, so
// PKG resolves as it would for go build there.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/forge-orm/forge/edge/workers"
)

// defaultCompatibilityDate is old enough for any recent wrangler (one
// refuses a date newer than its runtime: wrangler 4.86 stops at
// 2026-05-03) and recent enough for the glue, which needs no newer flag.
const defaultCompatibilityDate = "2025-06-01"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "forge-worker:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: forge-worker build -o DIR [-target cloudflare|vercel] [-name NAME] [-compatibility-date YYYY-MM-DD] [-env NAMES] [-tags TAGS] PKG`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "build" {
		return usageError{usage}
	}
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output folder")
	name := fs.String("name", "", "the Worker's name in wrangler.toml")
	date := fs.String("compatibility-date", defaultCompatibilityDate, "compatibility_date in wrangler.toml")
	tags := fs.String("tags", "", "extra build tags")
	target := fs.String("target", "cloudflare", "cloudflare or vercel")
	envVars := fs.String("env", "", "comma-separated environment variables the function reads (vercel)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error() + "\n" + usage}
	}
	if *out == "" || fs.NArg() != 1 {
		return usageError{usage}
	}
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(*date) {
		return usageError{fmt.Sprintf("-compatibility-date %q is not YYYY-MM-DD", *date)}
	}
	pkg := fs.Arg(0)
	if *name == "" {
		*name = workerName(pkg)
	}
	if !regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`).MatchString(*name) {
		return usageError{fmt.Sprintf("-name %q: a Worker name is lower-case letters, digits and dashes", *name)}
	}
	switch *target {
	case "cloudflare":
		if *envVars != "" {
			return usageError{"-env is for -target vercel (a Worker's vars are in wrangler.toml)"}
		}
		return build(stdout, *out, pkg, *name, *date, *tags)
	case "vercel":
		var vars []string
		for _, v := range strings.Split(*envVars, ",") {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(v) {
				return usageError{fmt.Sprintf("-env: %q is not an environment variable name", v)}
			}
			vars = append(vars, v)
		}
		return buildVercel(stdout, *out, pkg, *name, vars, *tags)
	}
	return usageError{fmt.Sprintf("-target %q: want cloudflare or vercel", *target)}
}

func build(stdout io.Writer, dir, pkg, name, date, tags string) error {
	raw, err := buildWasm(dir, pkg, tags)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "worker.mjs"), workers.EntryModule(), 0o644); err != nil {
		return err
	}
	toml := filepath.Join(dir, "wrangler.toml")
	wroteTOML := false
	if _, err := os.Stat(toml); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(toml, []byte(wranglerTOML(name, date)), 0o644); err != nil {
			return err
		}
		wroteTOML = true
	}
	fmt.Fprintf(stdout, "forge-worker: built %s into %s: app.wasm %d bytes (%d gzipped), wasm_exec.js, worker.mjs", pkg, dir, len(raw), gzipSize(raw))
	if wroteTOML {
		fmt.Fprint(stdout, ", wrangler.toml (a template: set database_id)")
	} else {
		fmt.Fprint(stdout, " (kept the existing wrangler.toml)")
	}
	fmt.Fprintln(stdout)
	return nil
}

// buildWasm builds pkg for js/wasm into dir/app.wasm, copies Go's
// wasm_exec.js beside it and returns the wasm.
func buildWasm(dir, pkg, tags string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	goroot, err := goEnv("GOROOT")
	if err != nil {
		return nil, err
	}
	wasm := filepath.Join(dir, "app.wasm")
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", wasm}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("GOOS=js GOARCH=wasm go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}

	execJS, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if errors.Is(err, os.ErrNotExist) { // Go before 1.24 kept it in misc/wasm
		execJS, err = os.ReadFile(filepath.Join(goroot, "misc", "wasm", "wasm_exec.js"))
	}
	if err != nil {
		return nil, fmt.Errorf("reading Go's wasm_exec.js: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), execJS, 0o644); err != nil {
		return nil, err
	}
	return os.ReadFile(wasm)
}

// gzipSize is the size of b gzipped at the best compression.
func gzipSize(b []byte) int {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return gz.Len()
}

func goEnv(key string) (string, error) {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", key, err)
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", fmt.Errorf("go env %s is empty", key)
	}
	return v, nil
}

// workerName derives a Worker name from a package path: its last element,
// lower-cased, with anything but letters and digits turned into dashes.
func workerName(pkg string) string {
	base := filepath.Base(filepath.Clean(pkg))
	if base == "." || base == string(filepath.Separator) {
		if wd, err := os.Getwd(); err == nil {
			base = filepath.Base(wd)
		}
	}
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "forge-worker"
	}
	if len(s) > 63 {
		s = strings.Trim(s[:63], "-")
	}
	return s
}

func wranglerTOML(name, date string) string {
	return `# wrangler.toml written by forge-worker (edit it: rebuilding keeps your copy).
name = "` + name + `"
main = "worker.mjs"
compatibility_date = "` + date + `"

# The Go program: worker.mjs imports "./app.wasm" as a compiled WebAssembly
# module and "./wasm_exec.js" (Go's JavaScript support) for its side effects.
[[rules]]
type = "CompiledWasm"
globs = ["**/*.wasm"]
fallthrough = true

# The D1 database the Go code opens with d1.FromEnv(env, "DB").
# Create it with:  npx wrangler d1 create ` + name + `-db
# and put the database_id it prints here.
[[d1_databases]]
binding = "DB"
database_name = "` + name + `-db"
database_id = "00000000-0000-0000-0000-000000000000"
`
}
