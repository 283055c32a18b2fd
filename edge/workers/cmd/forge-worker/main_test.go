package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"deploy"},
		{"build"},
		{"build", "-o", "dist"},
		{"build", "./x"},
		{"build", "-o", "dist", "a", "b"},
		{"build", "-o", "dist", "-compatibility-date", "tomorrow", "./x"},
		{"build", "-o", "dist", "-name", "Bad Name", "./x"},
		{"build", "-nope", "./x"},
		{"build", "-o", "dist", "-target", "deno", "./x"},
		{"build", "-o", "dist", "-env", "DATABASE_URL", "./x"},
		{"build", "-o", "dist", "-target", "vercel", "-env", "A,1B", "./x"},
		{"build", "-o", "dist", "-target", "vercel", "-env", "A B", "./x"},
	} {
		var out, errOut bytes.Buffer
		err := run(args, &out, &errOut)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
}

func TestWorkerName(t *testing.T) {
	for pkg, want := range map[string]string{
		"./examples/worker-d1":         "worker-d1",
		"github.com/acme/My_Worker":    "my-worker",
		"./cmd/api/":                   "api",
		"./___":                        "forge-worker",
		"./" + strings.Repeat("a", 70): strings.Repeat("a", 63),
	} {
		if got := workerName(pkg); got != want {
			t.Errorf("workerName(%q) = %q, want %q", pkg, got, want)
		}
	}
}

func TestWranglerTOML(t *testing.T) {
	s := wranglerTOML("api", "2025-06-01")
	for _, want := range []string{`name = "api"`, `main = "worker.mjs"`, `compatibility_date = "2025-06-01"`, "[[rules]]", `type = "CompiledWasm"`, `globs = ["**/*.wasm"]`, "[[d1_databases]]", `binding = "DB"`, `database_name = "api-db"`, "database_id ="} {
		if !strings.Contains(s, want) {
			t.Errorf("wrangler.toml lacks %s:\n%s", want, s)
		}
	}
}

// TestBuildFailure reports the go build error and writes no wrangler.toml.
func TestBuildFailure(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := run([]string{"build", "-o", filepath.Join(dir, "out"), "./does-not-exist"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "go build") {
		t.Errorf("building a missing package: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "wrangler.toml")); err == nil {
		t.Error("a failed build wrote wrangler.toml")
	}
}

func TestVercelConfig(t *testing.T) {
	if got := string(vcConfig(nil)); got != `{"runtime":"edge","entrypoint":"index.mjs"}`+"\n" {
		t.Errorf("vcConfig(nil) = %s", got)
	}
	if got := string(vcConfig([]string{"DATABASE_URL", "NEON_TOKEN"})); got != `{"runtime":"edge","entrypoint":"index.mjs","envVarsInUse":["DATABASE_URL","NEON_TOKEN"]}`+"\n" {
		t.Errorf("vcConfig = %s", got)
	}
	if got := string(outputConfig("api")); got != `{"version":3,"routes":[{"handle":"filesystem"},{"src":"/(.*)","dest":"/api"}]}`+"\n" {
		t.Errorf("outputConfig = %s", got)
	}
	for size, want := range map[int]string{
		900_000:   "fits every plan's cap",
		1_400_000: "fits Pro (2 MB), Enterprise (4 MB); over Hobby (1 MB)",
		3_000_000: "fits Enterprise (4 MB); over Hobby (1 MB), Pro (2 MB)",
		5_000_000: "over every plan's cap (Hobby (1 MB), Pro (2 MB), Enterprise (4 MB)): use a Vercel Function on the Node.js runtime",
	} {
		if got := fitsCaps(size); got != want {
			t.Errorf("fitsCaps(%d) = %q, want %q", size, got, want)
		}
	}
}
