package libsql

import (
	"context"

	"github.com/forge-orm/forge/driver"
)

var _ driver.Positioner = (*Conn)(nil)

// Position implements driver.Positioner: the server's replication index,
// which sqld reports with every statement's result and advances with every
// commit (on a replica: what it has applied from its primary). It costs one
// request running SELECT 1. A server that sends no index (sqld, for a
// database nothing has been written to yet; other Hrana servers) gives
// driver.ErrNoPosition.
func (c *Conn) Position(ctx context.Context) (uint64, error) {
	res, err := c.execute(ctx, "SELECT 1", nil, false)
	if err != nil {
		return 0, err
	}
	if res.ReplicationIndex == nil {
		return 0, driver.ErrNoPosition
	}
	return *res.ReplicationIndex, nil
}
