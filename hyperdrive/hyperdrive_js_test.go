//go:build js && wasm

package hyperdrive_test

// These tests run inside workerd, started by TestInWorkerd
// (hyperdrive_test.go) through testsvc.WorkerTest; elsewhere they skip.

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall/js"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/hyperdrive"
)

// testEnv is the Worker's env and ctx, as the test runner offers them.
func testEnv(t testing.TB) (env, ctx js.Value) {
	e := js.Global().Get("__forgeTest")
	if e.Type() != js.TypeObject || os.Getenv("FORGE_HD_SCHEMAS") == "" {
		t.Skip("no Hyperdrive here: this test runs inside workerd, started by TestInWorkerd")
	}
	return e.Get("env"), e.Get("ctx")
}

var schemas atomic.Int32

// nextSchema returns a fresh schema made by the host.
func nextSchema(t testing.TB) string {
	all := strings.Split(os.Getenv("FORGE_HD_SCHEMAS"), ",")
	i := int(schemas.Add(1)) - 1
	if i >= len(all) {
		t.Fatalf("the host made only %d schemas", len(all))
	}
	return all[i]
}

func TestConformanceInWorker(t *testing.T) {
	env, _ := testEnv(t)
	t.Logf("runtime: %s", os.Getenv("FORGE_TEST_RUNTIME"))
	forgetest.Run(t, func(t testing.TB) driver.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := hyperdrive.Connect(ctx, env.Get("HYPERDRIVE"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "SET search_path TO "+nextSchema(t), nil); err != nil {
			t.Fatal(err)
		}
		return c
	})
}

// workerEnv is a Worker env for Open, with the runtime's ctx.waitUntil.
type workerEnv struct {
	env, ctx js.Value
	waited   chan struct{} // closed when a WaitUntil function returns
}

func (e *workerEnv) Binding(name string) js.Value { return e.env.Get(name) }

func (e *workerEnv) WaitUntil(f func(context.Context)) {
	var resolve js.Value
	exec := js.FuncOf(func(this js.Value, args []js.Value) any { resolve = args[0]; return nil })
	e.ctx.Call("waitUntil", js.Global().Get("Promise").New(exec))
	exec.Release()
	go func() {
		defer resolve.Invoke()
		defer close(e.waited)
		f(context.Background())
	}()
}

// TestOpenInWorker: Open gives a working driver whose connection closes
// (through waitUntil) once the request's context ends.
func TestOpenInWorker(t *testing.T) {
	env, wctx := testEnv(t)
	e := &workerEnv{env: env, ctx: wctx, waited: make(chan struct{})}
	reqCtx, endRequest := context.WithCancel(context.Background())
	defer endRequest()
	conn, err := hyperdrive.Open(reqCtx, e, "HYPERDRIVE")
	if err != nil {
		t.Fatal(err)
	}
	db, err := forge.Open(forge.MustSchema(), conn)
	if err != nil {
		t.Fatal(err)
	}
	var pid int64
	rows, err := conn.Query(reqCtx, "SELECT pg_backend_pid()", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() || rows.Scan(&pid) != nil || rows.Close() != nil {
		t.Fatal("reading pg_backend_pid()")
	}
	// An interactive transaction that fails changes nothing.
	schema := nextSchema(t)
	if _, err := forge.Exec(reqCtx, db, "CREATE TABLE "+schema+".t (n int)"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = db.Transaction(reqCtx, func(tx *forge.Tx) error {
		if _, err := forge.Exec(reqCtx, tx, "INSERT INTO "+schema+".t VALUES (1)"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Transaction: %v", err)
	}
	if n := count(t, reqCtx, conn, "SELECT count(*) FROM "+schema+".t"); n != 0 {
		t.Errorf("a rolled-back insert left %d rows", n)
	}

	// The request ends: the connection closes, within waitUntil.
	endRequest()
	select {
	case <-e.waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection was not closed after the request ended")
	}
	if _, err := conn.Exec(context.Background(), "SELECT 1", nil); err == nil {
		t.Error("the connection still works after the request ended")
	}
	// The server saw it go.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	other, err := hyperdrive.Connect(ctx, env.Get("HYPERDRIVE"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for count(t, ctx, other, "SELECT count(*) FROM pg_stat_activity WHERE pid = "+itoa(pid)) != 0 {
		if ctx.Err() != nil {
			t.Fatal("the server still has the closed connection's backend")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBindingErrorsInWorker(t *testing.T) {
	env, wctx := testEnv(t)
	e := &workerEnv{env: env, ctx: wctx, waited: make(chan struct{})}
	ctx := context.Background()
	if _, err := hyperdrive.Open(ctx, e, "NOPE"); err == nil || !strings.Contains(err.Error(), "[[hyperdrive]]") {
		t.Errorf("a missing binding: %v", err)
	}
	if _, err := hyperdrive.Open(ctx, e, "NOT_HD"); err == nil || !strings.Contains(err.Error(), "not a Hyperdrive binding") {
		t.Errorf("a text binding: %v", err)
	}
	if _, err := hyperdrive.Connect(ctx, js.ValueOf(map[string]any{"host": "h"})); err == nil || !strings.Contains(err.Error(), "connectionString") {
		t.Errorf("an object without connectionString: %v", err)
	}
	if _, err := hyperdrive.Open(ctx, nil, "HYPERDRIVE"); err == nil {
		t.Error("Open with a nil env succeeded")
	}
}

func count(t *testing.T, ctx context.Context, c driver.Conn, sql string) int64 {
	t.Helper()
	rows, err := c.Query(ctx, sql, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int64
	if !rows.Next() {
		t.Fatalf("%s: no row", sql)
	}
	if err := rows.Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTLSInWorker: with sslmode=require, the driver asks the server for TLS
// (SSLRequest) and, on its yes, has the runtime upgrade the socket
// (startTls). The test server's certificate is its own, which the runtime
// does not trust: the handshake fails, and Connect says so rather than
// going on in plain text.
func TestTLSInWorker(t *testing.T) {
	testEnv(t)
	raw := os.Getenv("FORGE_HD_TLS_URL")
	if raw == "" {
		t.Skip("no FORGE_HD_TLS_URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	binding := js.ValueOf(map[string]any{"connectionString": raw})
	cfg, err := hyperdrive.Config(binding)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLSConfig != nil || len(cfg.Fallbacks) != 0 {
		t.Error("Config left TLS to pgconn")
	}
	c, err := hyperdrive.Connect(ctx, binding)
	if err == nil {
		c.Close()
		t.Fatal("connected over TLS to a server whose certificate the runtime cannot trust")
	}
	if strings.Contains(err.Error(), "refused TLS") || ctx.Err() != nil {
		t.Errorf("Connect: %v", err)
	}
	t.Logf("Connect with sslmode=require: %v", err)
}
