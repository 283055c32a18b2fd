//go:build js && wasm

package libsql_test

// TestConformanceInWorker runs inside the real workerd: the test binary is
// compiled for js/wasm and started in a Worker by the host-side
// TestConformanceInWorker (worker_test.go) through testsvc.WorkerTest,
// which passes the URLs of real sqld servers on 127.0.0.1 (one per
// conformance test) as FORGE_LIBSQL_SQLD_URLS. The driver reaches them
// through the runtime's fetch (fetch/jsfetch), not net/http. Run elsewhere
// (under Node with go_js_wasm_exec), it skips: nothing gives it a sqld.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"syscall/js"
	"testing"
	"time"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/fetch/jsfetch"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/libsql"
)

func TestConformanceInWorker(t *testing.T) {
	env := os.Getenv("FORGE_LIBSQL_SQLD_URLS")
	if env == "" {
		t.Skip("no sqld here: this test runs inside workerd, started by the host-side TestConformanceInWorker")
	}
	urls := strings.Split(env, ",")
	t.Logf("runtime: %s; %d sqld servers", os.Getenv("FORGE_TEST_RUNTIME"), len(urls))

	// Every request goes through the runtime's fetch; count them to show
	// the suite really travelled that way.
	var fetches atomic.Int64
	js := jsfetch.New()
	counted := fetch.Fetcher(func(ctx context.Context, r *fetch.Request) (*fetch.Response, error) {
		fetches.Add(1)
		return js(ctx, r)
	})
	var next atomic.Int32
	forgetest.Run(t, func(t testing.TB) driver.Conn {
		i := int(next.Add(1)) - 1
		if i >= len(urls) {
			t.Fatalf("the host started only %d sqld servers; each test needs a fresh one", len(urls))
		}
		c, err := libsql.Open(libsql.Config{URL: urls[i], Fetch: counted})
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
	if fetches.Load() == 0 {
		t.Fatal("no request went through jsfetch")
	}
	t.Logf("%d requests through the runtime's fetch", fetches.Load())
}

// TestAbortInWorker checks that a context ending inside the Worker really
// aborts the fetch: the host's abortWatch (worker_test.go), in front of a
// sqld, sees the client close the connection while the Worker keeps
// running (so not because the Worker's request ended), and sqld then
// interrupts the query. A control fetch without an AbortController shows
// that Go merely ceasing to wait leaves the connection open.
func TestAbortInWorker(t *testing.T) {
	base := os.Getenv("FORGE_LIBSQL_ABORT_URL")
	if base == "" {
		t.Skip("no sqld here: this test runs inside workerd, started by the host-side TestConformanceInWorker")
	}
	f := jsfetch.New()
	bg := context.Background()
	status := func(label string) (arrived, gone int) {
		t.Helper()
		res, err := f(bg, &fetch.Request{Method: "GET", URL: base + "/status"})
		if err != nil {
			t.Fatal(err)
		}
		var seen map[string]struct{ Arrived, Gone int }
		if err := json.Unmarshal(res.Body, &seen); err != nil {
			t.Fatalf("status %d %q: %v", res.Status, res.Body, err)
		}
		return seen[label].Arrived, seen[label].Gone
	}
	// waitGone polls up to polls times, 50 ms apart, until label's slow
	// request has lost its client, and returns how many polls that took
	// (0: it did not happen). It counts polls because workerd's clock only
	// moves on I/O.
	waitGone := func(label string, polls int) int {
		for i := range polls {
			if _, gone := status(label); gone > 0 {
				return i + 1
			}
			time.Sleep(50 * time.Millisecond)
		}
		return 0
	}
	const slow = `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000000000) SELECT COUNT(*) FROM r`

	// Through the driver: the deadline ends the call and aborts the fetch.
	c, err := libsql.Open(libsql.Config{URL: base + "/driver", Fetch: f})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	_, err = c.Exec(ctx, slow, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the slow statement past its deadline: %v", err)
	}
	if arrived, _ := status("driver"); arrived != 1 {
		t.Fatalf("the slow request reached the server %d times, want 1", arrived)
	}
	n := waitGone("driver", 100)
	if n == 0 {
		t.Fatal("5 s after the deadline the connection of the aborted fetch is still open")
	}
	t.Logf("the server had seen the aborted request's connection close by status poll %d (polls 50 ms apart)", n)
	rows, err := c.Query(bg, "SELECT 1", nil)
	if err != nil {
		t.Fatalf("the server after the abort: %v", err)
	}
	rows.Close()

	// The control: the same request through the runtime's fetch, waited
	// for with the same deadline but without an AbortController. Go stops
	// waiting, yet the connection stays open (sqld keeps computing) until
	// the fetch is aborted by hand.
	global := js.Global()
	ctrl := global.Get("AbortController").New()
	init := global.Get("Object").New()
	init.Set("method", "POST")
	init.Set("body", `{"requests":[{"type":"execute","stmt":{"sql":"`+slow+`"}},{"type":"close"}]}`)
	init.Set("signal", ctrl.Get("signal"))
	pending := global.Call("fetch", base+"/control/v2/pipeline", init)
	ctx, cancel = context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	if _, err := jsfetch.Await(ctx, pending, js.Undefined()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the control fetch: %v", err)
	}
	if waitGone("control", 20) != 0 {
		t.Fatal("the control fetch, never aborted, lost its connection anyway: the check above proves nothing")
	}
	if arrived, _ := status("control"); arrived != 1 {
		t.Fatalf("the control request reached the server %d times, want 1", arrived)
	}
	ctrl.Call("abort")
	if waitGone("control", 100) == 0 {
		t.Fatal("aborting the control fetch by hand did not close its connection")
	}
}
