package libsql

import (
	"context"

	"github.com/forge-orm/forge/driver"
)

var _ driver.Positioner = (*Conn)(nil)

// Position implements driver.Positioner: the server's replication index,
// which sqld reports with every statement's result and advances with every
// commit. (A replica sqld reports one too, but it runs ahead of the rows the
// replica's reads return: it says that the replica has heard of a commit,
// not that it shows it.) It costs one
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
