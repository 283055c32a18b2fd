package workers

import (
	"fmt"
	"strconv"
	"strings"
)

// The Vercel Edge Function entry module is worker.mjs with two changes,
// so that both platforms run the same glue: the wasm is imported with
// "?module" (Vercel's bundler turns that into a compiled
// WebAssembly.Module, the only way Vercel's Edge runtime runs wasm: it
// refuses to compile bytes at run time), and the Worker's default export
// becomes a local, called by a handler in Vercel's shape.
//
// Constants and code only: nothing here runs or is linked in a Worker,
// which never calls VercelEntryModule.
const (
	wasmImport       = `import wasmModule from "./app.wasm";`
	vercelWasmImport = `import wasmModule from "./app.wasm?module";`
	workerExport     = "\nexport default {\n"
	workerLocal      = "\nconst worker = {\n"
)

// vercelHandler is appended to the glue. Vercel hands an Edge Function the
// request and a context with waitUntil; environment variables are on
// process.env, which the handler passes to Go as the env (Env.Var reads
// them).
const vercelHandler = `
// Vercel Edge Function shape (written by forge-worker build -target vercel).
// Environment variables reach Go as the env: Env.Var("DATABASE_URL") reads
// process.env.DATABASE_URL. Env.WaitUntil uses the context's waitUntil.
export const config = { runtime: "edge" };

const noWaitUntil = { waitUntil() {} };

export default function handler(request, context) {
	const env = globalThis.process?.env ?? {};
	return worker.fetch(request, env, context ?? noWaitUntil);
}
`

// VercelEntryModule returns the entry module of a Vercel Edge Function
// running the Go program (index.mjs): EntryModule's glue with the wasm
// imported as "./app.wasm?module", its default export a handler in
// Vercel's shape (export default function handler(request, context),
// export const config = { runtime: "edge" }). Environment variables reach
// the program as the env (Env.Var); Env.Binding finds nothing else there.
// The forge-worker command's -target vercel writes it with wasm_exec.js
// and app.wasm into a Build Output API folder.
func VercelEntryModule() []byte {
	m, err := vercelEntry(entryModule)
	if err != nil {
		panic(err) // worker.mjs is embedded: TestVercelEntryModule guards its shape
	}
	return m
}

func vercelEntry(glue []byte) ([]byte, error) {
	m := string(glue)
	if strings.Count(m, wasmImport) != 1 || strings.Count(m, workerExport) != 1 {
		return nil, fmt.Errorf("forge/workers: worker.mjs does not have exactly one %q and one %q: update VercelEntryModule", wasmImport, strings.TrimSpace(workerExport))
	}
	m = strings.Replace(m, wasmImport, vercelWasmImport, 1)
	m = strings.Replace(m, workerExport, workerLocal, 1)
	// Each name imported from a Cloudflare-only module ("cloudflare:sockets")
	// becomes a function that throws, saying so: the glue loads on Vercel,
	// and only the feature fails.
	lines := strings.Split(m, "\n")
	for i, line := range lines {
		names, module, ok := cloudflareImport(line)
		if !ok {
			continue
		}
		var b strings.Builder
		for _, name := range strings.Split(names, ",") {
			fields := strings.Fields(name) // "connect" or "connect as c"
			if len(fields) == 0 {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString("const " + fields[len(fields)-1] + " = () => { throw new Error(" + strconv.Quote(module+" is Cloudflare's: it does not exist on Vercel Edge") + "); };")
		}
		lines[i] = b.String()
	}
	return []byte(strings.Join(lines, "\n") + vercelHandler), nil
}

// cloudflareImport reads `import { a, b as c } from "cloudflare:x";`.
func cloudflareImport(line string) (names, module string, ok bool) {
	rest, ok := strings.CutPrefix(line, "import {")
	if !ok {
		return "", "", false
	}
	names, rest, ok = strings.Cut(rest, `} from "`)
	if !ok || !strings.HasPrefix(rest, "cloudflare:") || !strings.HasSuffix(rest, `";`) {
		return "", "", false
	}
	return names, strings.TrimSuffix(rest, `";`), true
}

// SizeCap is a platform's limit on the size of a deployed edge function.
type SizeCap struct {
	Platform string // "Vercel Edge", "Cloudflare Workers"
	Plan     string
	Bytes    int
	Gzipped  bool // the limit counts gzipped bytes (else uncompressed)
}

// SizeCaps are the edge platforms' size limits that forge checks (the
// forge-worker command for -target vercel, forge doctor --edge): Vercel's
// Edge Functions are capped after gzip (vercel.com/docs/functions/
// limitations); Cloudflare removed its compressed caps in 2026 and allows
// 64 MiB uncompressed, where size costs start time rather than upload.
var SizeCaps = []SizeCap{
	{"Vercel Edge", "Hobby", 1 << 20, true},
	{"Vercel Edge", "Pro", 2 << 20, true},
	{"Vercel Edge", "Enterprise", 4 << 20, true},
	{"Cloudflare Workers", "any", 64 << 20, false},
}
