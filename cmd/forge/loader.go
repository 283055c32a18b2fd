package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge/schema"
)

// The schema is read from the user's own Go package, the way Go migration
// tools do it: forge writes a small program into a temporary directory of
// the user's module (<module root>/.forge-loader-XXXX/main.go) that imports
// the package and writes json.Marshal(pkg.Schema.Describe()) to a file, runs
// it with `go run` from the module root (so the module's go.mod, go.work,
// replace directives and build cache apply), reads the JSON and removes the
// directory. Directories whose names start with "." are ignored by ./...
// patterns, so a leftover directory never joins the user's builds.

// schemaSpec is a parsed --schema DIR[:Var].
type schemaSpec struct {
	dir  string // absolute package directory
	arg  string // as given
	name string // the variable
}

func parseSchemaSpec(arg string) (*schemaSpec, error) {
	s := &schemaSpec{arg: arg, name: "Schema"}
	dir := arg
	if i := strings.LastIndexByte(arg, ':'); i > 0 {
		if v := arg[i+1:]; token.IsIdentifier(v) {
			dir, s.name = arg[:i], v
		} else if !strings.ContainsAny(v, `/\`) {
			return nil, usagef("--schema %q: %q is not a Go identifier (DIR:Var names the variable, e.g. ./models:Schema)", arg, v)
		}
	}
	if !token.IsExported(s.name) {
		return nil, usagef("--schema %q: the variable %s is not exported; forge can only read exported variables (start its name with a capital letter)", arg, s.name)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil || !fi.IsDir() {
		return nil, usagef("--schema %q: %s is not a directory; --schema names the directory of a Go package, such as ./models", arg, dir)
	}
	s.dir = abs
	return s, nil
}

// moduleRoot walks up from dir to the directory holding go.mod and returns
// it with the module path.
func moduleRoot(dir string) (root, modPath string, err error) {
	for d := dir; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			p := modulePath(data)
			if p == "" {
				return "", "", fmt.Errorf("%s has no module line", filepath.Join(d, "go.mod"))
			}
			return d, p, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", fmt.Errorf("no go.mod in %s or any directory above it: --schema must name a package inside a Go module", dir)
		}
		d = parent
	}
}

// modulePath reads the module directive of a go.mod file.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" {
			if p, err := strconv.Unquote(f[1]); err == nil {
				return p
			}
			return f[1]
		}
	}
	return ""
}

const loaderPrefix = ".forge-loader-"

// loadSchema runs the loader program and returns the schema descriptor.
func loadSchema(ctx context.Context, spec *schemaSpec) (*schema.Schema, error) {
	root, modPath, err := moduleRoot(spec.dir)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(root, spec.dir)
	if err != nil {
		return nil, err
	}
	importPath := modPath
	if rel != "." {
		importPath += "/" + filepath.ToSlash(rel)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return nil, errors.New("the go command is not on PATH; forge needs it to read --schema (it compiles a small program against your package)")
	}
	removeStaleLoaders(root)
	tmp, err := loaderDir(root, importPath, spec.name)
	if err != nil {
		return nil, fmt.Errorf("cannot create the schema loader's directory in %s: %w", root, err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "schema.json")
	if err := os.WriteFile(filepath.Join(tmp, "main.go"), []byte(loaderProgram(importPath, spec.name)), 0o644); err != nil {
		return nil, err
	}
	relMain := "./" + filepath.ToSlash(filepath.Join(filepath.Base(tmp), "main.go"))
	cmd := exec.CommandContext(ctx, goCmd, "run", relMain, out)
	cmd.Dir = root
	// A panic while the package initializes (forge.MustSchema on a model
	// declared wrong) prints its message without a goroutine dump.
	cmd.Env = append(os.Environ(), "GOTRACEBACK=none")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr // the user's package may print while initializing
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, loaderError(spec, importPath, stderr.String(), err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("the schema loader wrote no schema: %w\n%s", err, stderr.String())
	}
	return decodeSchema(data)
}

// loaderDir creates the loader's directory. Its name depends only on what
// it loads, so that the go command's cache of built programs (keyed by the
// source and its directory) makes the next load of the same schema cheap;
// when another forge is using that name at the moment, a random one.
func loaderDir(root, importPath, name string) (string, error) {
	sum := sha256.Sum256([]byte(importPath + ":" + name))
	dir := filepath.Join(root, loaderPrefix+hex.EncodeToString(sum[:4]))
	if err := os.Mkdir(dir, 0o755); err == nil {
		return dir, nil
	} else if !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	return os.MkdirTemp(root, loaderPrefix)
}

// removeStaleLoaders removes loader directories left by a forge that was
// killed (an hour is far longer than any load).
func removeStaleLoaders(root string) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), loaderPrefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

func loaderProgram(importPath, name string) string {
	return `// Code generated by forge to read the schema of ` + importPath + `; removed after use.

package main

import (
	"encoding/json"
	"fmt"
	"os"

	forge "github.com/forge-orm/forge"
	userschema ` + strconv.Quote(importPath) + `
)

// forgeSchemaOf only compiles when the variable is a *forge.Schema.
func forgeSchemaOf(s *forge.Schema) *forge.Schema { return s }

func main() {
	s := forgeSchemaOf(userschema.` + name + `)
	if s == nil {
		fmt.Fprintln(os.Stderr, "forge-loader: ` + importPath + `.` + name + ` is nil")
		os.Exit(3)
	}
	b, err := json.Marshal(s.Describe())
	if err != nil {
		fmt.Fprintln(os.Stderr, "forge-loader:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[1], b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "forge-loader:", err)
		os.Exit(1)
	}
}
`
}

// loaderError explains a failed load.
func loaderError(spec *schemaSpec, importPath, out string, err error) error {
	out = strings.TrimSpace(out)
	var hint string
	switch {
	case strings.Contains(out, "undefined: userschema."+spec.name):
		hint = fmt.Sprintf("package %s has no exported variable %s; --schema DIR:Var names another variable", importPath, spec.name)
	case strings.Contains(out, "forgeSchemaOf"):
		hint = fmt.Sprintf("%s.%s must be a *forge.Schema (var %s = forge.MustSchema(...), or the result of forge.NewSchema)", importPath, spec.name, spec.name)
	case strings.Contains(out, "is a program, not an importable package"):
		hint = fmt.Sprintf("%s is package main, which cannot be imported; move the models into a package of their own", importPath)
	case strings.Contains(out, "forge-loader: ") && strings.Contains(out, " is nil"):
		hint = fmt.Sprintf("%s.%s is nil when the package has initialized", importPath, spec.name)
	case strings.Contains(out, "panic: "):
		msg, before := panicMessage(out)
		if strings.HasPrefix(msg, "forge: ") {
			// forge.MustSchema: the schema's errors are the whole story.
			out = before
			if out == "" {
				return fmt.Errorf("cannot read the schema from %s: the models of package %s are declared wrong (forge.MustSchema panicked):\n%s", spec.arg, importPath, indent(msg, "  "))
			}
			return fmt.Errorf("cannot read the schema from %s: the models of package %s are declared wrong (forge.MustSchema panicked):\n%s\noutput of the package before that:\n%s", spec.arg, importPath, indent(msg, "  "), indent(out, "  | "))
		}
		hint = fmt.Sprintf("package %s panicked while initializing (forge.MustSchema panics on a model declared wrong; the message above names it)", importPath)
	case strings.Contains(out, "no required module provides package github.com/forge-orm/forge"),
		strings.Contains(out, "cannot find module providing package github.com/forge-orm/forge"):
		hint = "the module does not require github.com/forge-orm/forge (go get github.com/forge-orm/forge)"
	default:
		hint = "go run of the schema loader failed; the package must build (go build " + spec.arg + ")"
	}
	if out == "" {
		out = err.Error()
	}
	return fmt.Errorf("cannot read the schema from %s: %s\n%s", spec.arg, hint, indent(out, "  | "))
}

// panicMessage extracts a panic's message from a Go program's output (the
// value's text, each further line of which the runtime indents with a
// tab), and returns the output before it; the goroutine dump, if any, and
// the go command's "exit status" line are left out.
func panicMessage(out string) (msg, before string) {
	i := strings.Index(out, "panic: ")
	before = strings.TrimSpace(out[:i])
	lines := strings.Split(out[i+len("panic: "):], "\n")
	var keep []string
	for j, l := range lines {
		if j > 0 {
			if !strings.HasPrefix(l, "\t") {
				break
			}
			l = l[1:]
		}
		keep = append(keep, strings.TrimSuffix(l, " [recovered]"))
	}
	return strings.TrimSpace(strings.Join(keep, "\n")), before
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// decodeSchema reads the loader's JSON. JSON loses the Go types of column
// defaults (int64 comes back as a number, []byte as base64, time.Time as
// text): they are restored from each column's Kind.
func decodeSchema(data []byte) (*schema.Schema, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var s schema.Schema
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("the schema loader's output is not a schema: %w", err)
	}
	for _, t := range s.Tables {
		if t == nil {
			return nil, errors.New("the schema loader's output has a null table")
		}
		for _, c := range t.Columns {
			if c == nil || c.Default == nil || c.Default.Now || c.Default.Value == nil {
				continue
			}
			v, err := typedDefault(c.Kind, c.Default.Value)
			if err != nil {
				return nil, fmt.Errorf("the default of %s.%s: %w", t.Name, c.Name, err)
			}
			c.Default.Value = v
		}
	}
	return &s, nil
}

// typedDefault converts a default decoded from JSON back to the Go type
// forge gives defaults of kind k.
func typedDefault(k schema.Kind, v any) (any, error) {
	switch k {
	case schema.Int64, schema.ID:
		n, ok := v.(json.Number)
		if !ok {
			break
		}
		return n.Int64()
	case schema.Int32:
		n, ok := v.(json.Number)
		if !ok {
			break
		}
		i, err := strconv.ParseInt(string(n), 10, 32)
		return int32(i), err
	case schema.Float:
		n, ok := v.(json.Number)
		if !ok {
			break
		}
		return n.Float64()
	case schema.Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case schema.Text, schema.TextID, schema.JSON:
		// forge keeps a JSON column's default as its JSON text.
		if s, ok := v.(string); ok {
			return s, nil
		}
	case schema.Time:
		if s, ok := v.(string); ok {
			return time.Parse(time.RFC3339Nano, s)
		}
	case schema.Bytes:
		if s, ok := v.(string); ok {
			return base64.StdEncoding.DecodeString(s)
		}
	}
	return nil, fmt.Errorf("%v (%T) is not a %s value", v, v, k)
}
