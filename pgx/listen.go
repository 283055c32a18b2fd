package pgx

import (
	"context"

	"github.com/forge-orm/forge/driver"
	jpgx "github.com/jackc/pgx/v5"
)

var _ driver.Listener = (*Conn)(nil)

// Listen implements driver.Listener with LISTEN on a connection it takes
// from the pool for as long as ctx lasts, and calls wake for each
// notification on channel (whatever its payload). The connection is
// closed, not returned to the pool, when Listen ends.
//
// A Conn from FromConn cannot listen: its one connection serves every
// call. LISTEN needs a session of its own: it does not work through a pooler in
// transaction mode (PgBouncer's transaction pooling, Neon's pooled
// endpoint); connect to the server directly or through a session-mode
// pooler.
func (c *Conn) Listen(ctx context.Context, channel string, wake func()) error {
	if c.pool == nil {
		return &driver.CapabilityError{Op: "LISTEN", Driver: c.DriverName(),
			Use: "LISTEN holds a connection for the whole watch: open the driver over a pool (New, Open), not FromConn's one connection, or watch without Notify"}
	}
	pc, err := c.pool.Acquire(ctx)
	if err != nil {
		return MapError(err)
	}
	// A connection that was LISTENing, or whose wait was cut by ctx, is not
	// reused.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+jpgx.Identifier{channel}.Sanitize()); err != nil {
		return MapError(err)
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return MapError(err)
		}
		wake()
	}
}
