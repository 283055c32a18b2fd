//go:build js && wasm

package pgx_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/driver"
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
	for _, want := range []string{"no TCP", "neon", "d1", "d1rest", "libsql"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: the error does not say %q: %v", what, want, err)
		}
	}
}

// TestOpenAtTheEdge runs in js/wasm (started by TestEdgeBuild): Open fails
// at once, without touching the network, and a Conn from New fails every
// call with the same error.
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
	_, err = c.Query(ctx, "SELECT 1", nil)
	checkEdgeError(t, "Query", err)
	_, err = c.Exec(ctx, "SELECT 1", nil)
	checkEdgeError(t, "Exec", err)
	_, err = c.Begin(ctx, driver.TxOptions{})
	checkEdgeError(t, "Begin", err)
	_, err = c.Batch(ctx, []driver.Stmt{{SQL: "SELECT 1"}})
	checkEdgeError(t, "Batch", err)
	_, err = c.Session(ctx)
	checkEdgeError(t, "Session", err)
	if c.Close() != nil || c.DriverName() != "pgx" || c.Dialect().Name() != "postgres" {
		t.Error("Close, DriverName or Dialect")
	}
	// Through forge, the same error.
	db, err := forge.Open(forge.MustSchema(), c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = forge.Exec(ctx, db, "SELECT 1")
	checkEdgeError(t, "forge.Exec", err)
	err = db.Transaction(ctx, func(*forge.Tx) error { return nil })
	checkEdgeError(t, "db.Transaction", err)
}
