//go:build js && wasm

package pgx_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/pgx"
)

func checkEdgeError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded in js/wasm", what)
	}
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("%s: the error does not match errors.ErrUnsupported: %v", what, err)
	}
	for _, want := range []string{"no TCP", "hyperdrive", "neon", "d1", "d1rest", "libsql"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: the error does not say %q: %v", what, want, err)
		}
	}
}

// TestOpenAtTheEdge runs in js/wasm (started by TestEdgeBuild): Open fails
// at once, without touching the network, with an error naming what works
// there instead.
func TestOpenAtTheEdge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Open(ctx, "postgres://user@127.0.0.1:5432/db")
	if conn != nil {
		t.Error("Open returned a Conn")
	}
	checkEdgeError(t, "Open", err)
	if ctx.Err() != nil {
		t.Error("Open waited for its context")
	}
	c := pgx.New(nil)
	if c.DriverName() != "pgx" || c.Dialect().Name() != "postgres" || c.Pool() != nil {
		t.Error("DriverName, Dialect or Pool")
	}
}
