//go:build !(js && wasm)

package libsql_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/internal/testsvc"
)

// TestConformanceInWorker runs forge's conformance suite inside a Cloudflare
// Worker against real sqld: it compiles this package's tests for js/wasm
// (go test -c), starts one fresh sqld per conformance test on 127.0.0.1,
// and runs the binary's TestConformanceInWorker (worker_js_test.go) inside
// the real workerd through Miniflare (testsvc.WorkerTest), where
// the driver reaches sqld through the runtime's fetch (fetch/jsfetch).
//
// The binary's TestAbortInWorker runs there too: it checks, through
// abortWatch in front of one more sqld, that a context ending inside the
// Worker closes the request's connection (jsfetch's AbortController), which
// makes sqld interrupt the query.
func TestConformanceInWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	// One sqld per test of the suite: each needs a fresh database.
	start := time.Now()
	urls := make([]string, len(forgetest.Tests))
	for i := range urls {
		urls[i] = testsvc.SQLD(t)
	}
	watch := &abortWatch{target: testsvc.SQLD(t), seen: map[string]*abortCount{}}
	t.Logf("started %d sqld in %v", len(urls)+1, time.Since(start).Round(time.Millisecond))
	srv := httptest.NewServer(watch)
	t.Cleanup(srv.Close)
	want := []string{"runtime: Cloudflare-Workers", "--- PASS: TestConformanceInWorker ", "--- PASS: TestAbortInWorker "}
	for _, tc := range forgetest.Tests {
		want = append(want, "--- PASS: TestConformanceInWorker/"+tc.Name+" ")
	}
	testsvc.WorkerTest(t, testsvc.WorkerOptions{
		Run: "^(TestConformanceInWorker|TestAbortInWorker)$",
		Env: map[string]string{
			"FORGE_LIBSQL_SQLD_URLS": strings.Join(urls, ","),
			"FORGE_LIBSQL_ABORT_URL": srv.URL,
		},
		// Make sure they ran there, every one, rather than skipped.
		Want: want,
	})
}

// abortWatch forwards Hrana requests to a sqld (target) and records, per
// label (the first path segment: /LABEL/v2/pipeline), how many slow
// requests (a recursive CTE) arrived and how many ended because the client
// closed the connection before sqld answered. GET /status answers that
// record as JSON. Forwarding with the incoming request's context carries
// the client's disconnect on to sqld, which then interrupts the query.
type abortWatch struct {
	target string
	mu     sync.Mutex
	seen   map[string]*abortCount
}

type abortCount struct{ Arrived, Gone int }

func (a *abortWatch) note(label string, f func(*abortCount)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[label] == nil {
		a.seen[label] = &abortCount{}
	}
	f(a.seen[label])
}

func (a *abortWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/status" {
		a.mu.Lock()
		out, _ := json.Marshal(a.seen)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
		return
	}
	label, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	slow := bytes.Contains(body, []byte("WITH RECURSIVE"))
	if slow {
		a.note(label, func(c *abortCount) { c.Arrived++ })
	}
	req, err := http.NewRequestWithContext(r.Context(), "POST", a.target+"/"+rest, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if slow && r.Context().Err() != nil {
			a.note(label, func(c *abortCount) { c.Gone++ })
		}
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}
