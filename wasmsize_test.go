package forge_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-orm/forge/internal/testsvc"
)

// wasmModelMethods are the seven main methods each generated model uses.
const wasmModelMethods = "Create, FindMany, FindUnique, Update, Delete, Upsert, Count"

// wasmProgram writes a program declaring n models, each used with
// wasmModelMethods. The structs' field names differ, so each model has its
// own GC shape (as distinct structs in a real program do) and gets its own
// instantiation of the generic methods.
func wasmProgram(n int) string {
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n\t\"context\"\n\t\"os\"\n\n\t\"github.com/forge-orm/forge\"\n)\n\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `type M%[1]d struct {
	ID       int64
	Name%[1]d  string
	Score%[1]d float64
	Note%[1]d  *string
}

var Ms%[1]d = forge.Model("m%[1]d", func(m *M%[1]d, f *forge.Fields) {
	f.ID(&m.ID)
	f.Text(&m.Name%[1]d).Unique()
	f.Float(&m.Score%[1]d)
	f.NullText(&m.Note%[1]d)
})

func use%[1]d(ctx context.Context, db *forge.DB) {
	c := Ms%[1]d.Cols()
	v, _ := Ms%[1]d.Create(ctx, db, M%[1]d{Name%[1]d: "a"})
	_, _ = Ms%[1]d.FindMany(ctx, db, forge.Where(forge.Eq(&c.Name%[1]d, "a")), forge.OrderBy(&c.Score%[1]d, forge.Desc), forge.Take(5))
	_, _ = Ms%[1]d.FindUnique(ctx, db, forge.Eq(&c.ID, v.ID))
	_, _ = Ms%[1]d.Update(ctx, db, forge.Eq(&c.ID, v.ID), forge.Set(&c.Score%[1]d, 2.0))
	_, _ = Ms%[1]d.Upsert(ctx, db, v, forge.OnConflict(&c.Name%[1]d))
	_, _ = Ms%[1]d.Count(ctx, db, forge.Gt(&c.Score%[1]d, 1.0))
	_ = Ms%[1]d.Delete(ctx, db, forge.Eq(&c.ID, v.ID))
}

`, i)
	}
	b.WriteString("func main() {\n\tif len(os.Args) < 100 {\n\t\treturn\n\t}\n\tctx := context.Background()\n\tvar db *forge.DB\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\tuse%d(ctx, db)\n", i)
	}
	b.WriteString("}\n")
	return b.String()
}

// wasmSize builds the n-model program for js/wasm, stripped, and returns
// its size raw and gzipped.
func wasmSize(t *testing.T, dir string, n int) (raw, gz int) {
	t.Helper()
	src := filepath.Join(dir, fmt.Sprintf("m%d", n))
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(wasmProgram(n)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.wasm")
	gocmd, _ := testsvc.Go(t)
	cmd := exec.Command(gocmd, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./"+filepath.ToSlash(src))
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (%d models): %v\n%s", n, err, msg)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(bin)
	w.Close()
	return len(bin), z.Len()
}

// TestWasmSizePerModel builds a js/wasm program with 1 and with 20 models,
// each using the seven main methods, and bounds what each extra model adds:
// the generic methods must stay thin shells over untyped code.
func TestWasmSizePerModel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two js/wasm binaries; skipped with -short")
	}
	// A directory inside the module (so the build resolves forge to this
	// tree), named with a leading underscore so ./... ignores it.
	dir, err := os.MkdirTemp(".", "_wasmsize")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	raw1, gz1 := wasmSize(t, dir, 1)
	raw20, gz20 := wasmSize(t, dir, 20)
	perRaw, perGz := float64(raw20-raw1)/19, float64(gz20-gz1)/19
	t.Logf("js/wasm with %s per model: 1 model %d B (%d gz), 20 models %d B (%d gz): +%.0f B (+%.0f gz) per extra model",
		wasmModelMethods, raw1, gz1, raw20, gz20, perRaw, perGz)
	if perGz > 4096 {
		t.Errorf("each extra model adds %.0f bytes gzipped to a js/wasm build; the budget is 4096", perGz)
	}
}
