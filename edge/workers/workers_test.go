package workers_test

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/internal/testsvc"
)

// TestGlueUnderWorkerd builds testdata/glue with the forge-worker command
// and runs testdata/glue.test.mjs, which starts it in the real workerd
// (Miniflare) and checks requests, responses, panics, errors, cancellation,
// WaitUntil, 32 concurrent requests and the restart of a crashed instance.
func TestGlueUnderWorkerd(t *testing.T) {
	dir := testsvc.ForgeWorker(t, "./testdata/glue")
	toml, err := os.ReadFile(filepath.Join(dir, "wrangler.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`name = "glue"`, `main = "worker.mjs"`, `compatibility_date = "2025-06-01"`, `type = "CompiledWasm"`, "[[d1_databases]]", `binding = "DB"`} {
		if !strings.Contains(string(toml), want) {
			t.Errorf("wrangler.toml lacks %s:\n%s", want, toml)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "worker.mjs")); !bytes.Equal(got, workers.EntryModule()) {
		t.Error("worker.mjs differs from EntryModule()")
	}
	testsvc.WorkerScript(t, "testdata/glue.test.mjs", dir)
}

// TestBindingsUnderWorkerd runs kv_js_test.go (KV) inside the real
// workerd, through Miniflare, with a fresh KV namespace bound as KV.
func TestBindingsUnderWorkerd(t *testing.T) {
	testsvc.WorkerTest(t, testsvc.WorkerOptions{
		Run: "InWorker$",
		Miniflare: map[string]any{
			"kvNamespaces": []string{"KV"},
			"bindings":     map[string]any{"NOT_KV": "text"},
		},
		Want: []string{"--- PASS: TestKVInWorker "},
	})
}

// TestBindingsUnderServe builds testdata/bindings with the forge-worker
// command and runs testdata/bindings.test.mjs, which starts it in the real
// workerd (Miniflare) and checks, under workers.Serve, the Cache API,
// Analytics Engine, KV from Env.KV and sockets (to an echo server here),
// with 32 requests at once each doing its own I/O.
func TestBindingsUnderServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	dir := testsvc.ForgeWorker(t, "./testdata/bindings")
	testsvc.WorkerScript(t, "testdata/bindings.test.mjs", dir, "ECHO="+l.Addr().String())
}

func TestRequestHelpers(t *testing.T) {
	r := &workers.Request{URL: "https://x.test/a/b?take=10&q=caf%C3%A9&q=2"}
	if r.Path() != "/a/b" || r.Query("take") != "10" || r.Query("q") != "café" || r.Query("none") != "" {
		t.Errorf("Path %q, take %q, q %q", r.Path(), r.Query("take"), r.Query("q"))
	}
	bad := &workers.Request{URL: "http://[::1"}
	if bad.Path() != "" || bad.Query("x") != "" {
		t.Error("a bad URL gave a path or a query")
	}
}

func TestResponseHelpers(t *testing.T) {
	res, err := workers.JSON(201, map[string]any{"a": []int{1}})
	if err != nil || res.Status != 201 || string(res.Body) != `{"a":[1]}` || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("JSON: %+v, %v", res, err)
	}
	if _, err := workers.JSON(200, func() {}); err == nil {
		t.Error("JSON of a func did not fail")
	}
	res, err = workers.LeanJSON(200, []any{leanUser{7, "a\"b"}, map[string]any{"n": 1.5, "ok": true, "none": nil}})
	if err != nil || res.Status != 200 || string(res.Body) != `[{"id":7,"name":"a\"b"},{"n":1.5,"none":null,"ok":true}]` || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("LeanJSON: %+v (%s), %v", res, res.Body, err)
	}
	if res, err := workers.LeanJSON(200, struct{}{}); err == nil || res != nil {
		t.Errorf("LeanJSON of a struct: %v, %v; want an error", res, err)
	}
	v, err := workers.ParseJSON([]byte(` {"users": [{"email": "a@b", "n": 2}]} `))
	if u, _ := v.(map[string]any)["users"].([]any); err != nil || len(u) != 1 || u[0].(map[string]any)["n"] != 2.0 {
		t.Errorf("ParseJSON: %#v, %v", v, err)
	}
	if _, err := workers.ParseJSON([]byte(`{"a": 1} x`)); err == nil {
		t.Error("ParseJSON accepted data after the value")
	}
	res, err = workers.Text(404, "nope")
	if err != nil || res.Status != 404 || string(res.Body) != "nope" || !strings.HasPrefix(res.Header.Get("content-type"), "text/plain") {
		t.Errorf("Text: %+v, %v", res, err)
	}
}

func TestEntryModule(t *testing.T) {
	m := string(workers.EntryModule())
	for _, want := range []string{`import "./wasm_exec.js"`, `from "./app.wasm"`, "__forgeWorkers", "export default"} {
		if !strings.Contains(m, want) {
			t.Errorf("worker.mjs lacks %s", want)
		}
	}
}

// urlChars are the characters of a URL as the runtime hands it over
// (absolute, normalised, non-ASCII already %-escaped).
const urlChars = "abcXYZ019-._~!$&'()*+,;=:@/%?"

// FuzzURLHelpers checks Path and Query against net/url on URLs made of
// urlChars.
func FuzzURLHelpers(f *testing.F) {
	for _, s := range []string{"users", "a%20b/c%2Fd", "x?take=10&q=a+b%26c", "p?a=1;b=2&a=3", "p?a=%zz&a=2", "?=x&&a", "p?a", "%"} {
		f.Add(s, "a")
		f.Add(s, "take")
	}
	f.Fuzz(func(t *testing.T, tail, name string) {
		for i := 0; i < len(tail); i++ {
			if !strings.ContainsRune(urlChars, rune(tail[i])) {
				return
			}
		}
		raw := "https://h.test/" + tail
		r := &workers.Request{URL: raw}
		u, err := url.Parse(raw)
		if err != nil {
			if r.Path() != "" && strings.Contains(strings.SplitN(tail, "?", 2)[0], "%") {
				t.Errorf("%q: net/url fails (%v), Path = %q", raw, err, r.Path())
			}
			return
		}
		if r.Path() != u.Path {
			t.Errorf("%q: Path = %q, net/url %q", raw, r.Path(), u.Path)
		}
		if got, want := r.Query(name), u.Query().Get(name); got != want {
			t.Errorf("%q: Query(%q) = %q, net/url %q", raw, name, got, want)
		}
	})
}

type leanUser struct {
	id   int64
	name string
}

func (u leanUser) AppendJSON(b []byte) []byte {
	b, _ = workers.AppendJSON(append(b, `{"id":`...), u.id)
	b = workers.AppendJSONString(append(b, `,"name":`...), u.name)
	return append(b, '}')
}

// TestVercelEntryModule checks the Vercel entry module derived from
// worker.mjs: the wasm imported with "?module", one default export (the
// handler), the edge runtime config, and nothing left of the Worker's
// export.
func TestVercelEntryModule(t *testing.T) {
	m := string(workers.VercelEntryModule())
	for _, want := range []string{`import "./wasm_exec.js"`, `import wasmModule from "./app.wasm?module";`, "export default function handler(request, context)", `export const config = { runtime: "edge" };`, "const worker = {"} {
		if strings.Count(m, want) != 1 {
			t.Errorf("the Vercel entry module has %d of %s, want 1", strings.Count(m, want), want)
		}
	}
	if strings.Count(m, "export default") != 1 || strings.Contains(m, `from "./app.wasm";`) {
		t.Errorf("the Vercel entry module keeps the Worker's export or wasm import:\n%s", m)
	}
}
