package gateway_test

import (
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/libsql"
)

// forge's Watch over the neon driver (HTTP), through the gateway, on
// PostgreSQL: the WAL position probe runs as an ordinary query. The server
// is shared, so its WAL moves without this test (not Quiet).
func TestWatchNeon(t *testing.T) {
	dsn(t)
	forgetest.RunWatch(t, func(t testing.TB) driver.Conn {
		pool, _ := openPool(t, "")
		return openDriver(t, serve(t, pool, gateway.NeonOptions{}))
	}, forgetest.WatchOptions{})
}

// forge's Watch over the libsql driver through the gateway's Hrana, which
// sends no replication index: the libsql driver says so
// (driver.ErrNoPosition) and the watch runs its query at every interval,
// still seeing every change (not Quiet).
func TestWatchLibsqlGateway(t *testing.T) {
	forgetest.RunWatch(t, func(t testing.TB) driver.Conn {
		url := sqliteServer(t, gateway.Config{})
		c, err := libsql.Open(libsql.Config{URL: url, AuthToken: writeSecret, Fetch: nethttp.New(nil)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}, forgetest.WatchOptions{})
}
