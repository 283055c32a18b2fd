package workers

import (
	"strings"
	"testing"
)

// TestVercelEntryCloudflareImports checks that an import of a
// Cloudflare-only module in the glue becomes, for Vercel, functions that
// throw naming the module, and that a glue without the import or export
// VercelEntryModule rewrites is an error.
func TestVercelEntryCloudflareImports(t *testing.T) {
	glue := "import { connect } from \"cloudflare:sockets\";\nimport { a, b as c } from \"cloudflare:x-y\";\nimport \"./wasm_exec.js\";\nimport wasmModule from \"./app.wasm\";\n\nexport default {\n\tfetch() {},\n};\n"
	m, err := vercelEntry([]byte(glue))
	if err != nil {
		t.Fatal(err)
	}
	s := string(m)
	for _, want := range []string{
		`const connect = () => { throw new Error("cloudflare:sockets is Cloudflare's: it does not exist on Vercel Edge"); };`,
		`const a = () => { throw new Error("cloudflare:x-y is Cloudflare's`,
		`const c = () => { throw new Error("cloudflare:x-y is Cloudflare's`,
		`import wasmModule from "./app.wasm?module";`,
		"\nconst worker = {\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the Vercel entry lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, `from "cloudflare:`) {
		t.Errorf("a Cloudflare import is left:\n%s", s)
	}
	for _, bad := range []string{"export default {\n};\n", "import wasmModule from \"./app.wasm\";\n", glue + "\nexport default {\n"} {
		if _, err := vercelEntry([]byte(bad)); err == nil {
			t.Errorf("vercelEntry(%q) did not fail", bad)
		}
	}
}
