//go:build !(js && wasm)

package hyperdrive_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

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

	// For TestTLSInWorker (whose binding is made up: Miniflare's Hyperdrive
	// always says disable): a server of this test's own that accepts
	// PostgreSQL's SSLRequest and then offers a certificate the runtime
	// cannot trust, with sslmode=require. Not the test command's
	// PostgreSQL: whether that one has TLS on is not this test's business.
	tlsURL := *u
	tlsURL.Host = tlsStub(t)
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

// tlsStub serves PostgreSQL's TLS negotiation on a loopback port until the
// test ends: it answers an SSLRequest with 'S' and then a TLS handshake
// with a self-signed certificate made here. It returns host:port.
func tlsStub(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				var req [8]byte // length 8, code 80877103
				if _, err := io.ReadFull(c, req[:]); err != nil {
					return
				}
				if _, err := c.Write([]byte{'S'}); err != nil {
					return
				}
				_ = tls.Server(c, cfg).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}
