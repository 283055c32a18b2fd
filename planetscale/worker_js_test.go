//go:build js && wasm

package planetscale_test

// TestConformanceInWorker runs inside the real workerd: the test binary is
// compiled for js/wasm and started in a Worker by the gateway module's
// TestPlanetScaleConformanceInWorker (gateway/planetscale_worker_test.go),
// which passes the URLs of forge gateways serving PlanetScale's protocol on
// 127.0.0.1 (one per conformance test, each on a fresh MySQL database) as
// FORGE_PLANETSCALE_URLS. The driver reaches them through the runtime's
// fetch (fetch/jsfetch), not net/http. Run elsewhere, it skips.

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/fetch/jsfetch"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/planetscale"
)

func TestConformanceInWorker(t *testing.T) {
	env := os.Getenv("FORGE_PLANETSCALE_URLS")
	if env == "" {
		t.Skip("no gateway here: this test runs inside workerd, started by the gateway module's TestPlanetScaleConformanceInWorker")
	}
	urls := strings.Split(env, ",")
	t.Logf("runtime: %s; %d gateways", os.Getenv("FORGE_TEST_RUNTIME"), len(urls))
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
			t.Fatalf("the host started only %d gateways; each test needs a fresh database", len(urls))
		}
		c, err := planetscale.Open(context.Background(), planetscale.Config{URL: urls[i], Fetch: counted})
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
