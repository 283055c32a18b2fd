//go:build !(js && wasm)

package hyperdrive_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/hyperdrive"
	"github.com/forge-orm/forge/internal/testsvc"
	jpgx "github.com/jackc/pgx/v5"
)

// TestInWorkerd runs the tests of hyperdrive_js_test.go inside the real
// workerd (Miniflare), with a Hyperdrive binding (HYPERDRIVE) pointed at
// the test command's PostgreSQL (FORGE_TEST_PG_DSN): forge's conformance
// suite, each test in a fresh schema made here, over Open's and Connect's
// connections through the runtime's sockets.
func TestInWorkerd(t *testing.T) {
	dsn := os.Getenv("FORGE_TEST_PG_DSN")
	if dsn == "" {
		forgetest.RequireService(t, "PostgreSQL (FORGE_TEST_PG_DSN)")
	}
	if testing.Short() {
		t.Skip("builds a wasm and starts workerd")
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		t.Fatalf("FORGE_TEST_PG_DSN %q: Miniflare's Hyperdrive wants a postgres:// URL", dsn)
	}
	if _, ok := u.User.Password(); !ok {
		// Miniflare insists on a password; a server with trust
		// authentication ignores it.
		u.User = url.UserPassword(u.User.Username(), "unused")
	}

	ctx := context.Background()
	admin, err := jpgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("forge_hd_%d_", os.Getpid())
	var schemas []string
	t.Cleanup(func() {
		for _, s := range schemas {
			_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+s+" CASCADE")
		}
		admin.Close(context.Background())
	})
	for i := 0; i < len(forgetest.Tests)+2; i++ {
		s := fmt.Sprintf("%s%d", prefix, i)
		if _, err := admin.Exec(ctx, "CREATE SCHEMA "+s); err != nil {
			t.Fatal(err)
		}
		schemas = append(schemas, s)
	}

	// The same server with sslmode=require, for TestTLSInWorker (whose
	// binding is made up: Miniflare's Hyperdrive always says disable).
	tlsURL := *u
	q := tlsURL.Query()
	q.Set("sslmode", "require")
	tlsURL.RawQuery = q.Encode()

	want := []string{"runtime: Cloudflare-Workers", "--- PASS: TestConformanceInWorker ", "--- PASS: TestOpenInWorker ", "--- PASS: TestBindingErrorsInWorker ", "--- PASS: TestTLSInWorker "}
	for _, tc := range forgetest.Tests {
		want = append(want, "--- PASS: TestConformanceInWorker/"+tc.Name+" ")
	}
	testsvc.WorkerTest(t, testsvc.WorkerOptions{
		Run:       "InWorker$",
		Env:       map[string]string{"FORGE_HD_SCHEMAS": strings.Join(schemas, ","), "FORGE_HD_TLS_URL": tlsURL.String()},
		Miniflare: map[string]any{"hyperdrives": map[string]string{"HYPERDRIVE": u.String()}, "bindings": map[string]any{"NOT_HD": "text"}},
		Want:      want,
	})
}

func TestOutsideWorker(t *testing.T) {
	if _, err := hyperdrive.Open(context.Background(), nil, "HYPERDRIVE"); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "pgx") {
		t.Errorf("Open outside a Worker: %v", err)
	}
}
