//go:build !(js && wasm)

package pgx

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Open creates a pool from a connection string ("postgres://..." or
// key=value) and adapts it.
func Open(ctx context.Context, dsn string) (*Conn, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("forge/pgx: %w", err)
	}
	return New(pool), nil
}
