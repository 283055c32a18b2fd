package gateway_test

import (
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/libsql"
	"github.com/forge-orm/forge/neon"
)

// TestNeonConformance runs forge's conformance suite through forge's neon
// driver, over HTTP, through the gateway's Neon handler, on PostgreSQL:
// each test gets a schema of its own. Transaction tests check the
// CapabilityError (Neon's protocol has no interactive transactions), and a
// CreateMany over the parameter limit goes through one transaction request.
func TestNeonConformance(t *testing.T) {
	dsn(t)
	forgetest.Run(t, func(t testing.TB) driver.Conn {
		pool, _ := openPool(t, "")
		return openDriver(t, serve(t, pool, gateway.NeonOptions{}))
	})
}

// TestNeonConformanceThroughGateway runs the suite through the whole
// gateway (authentication, limits, logging) with forge's neon driver
// sending a write token.
func TestNeonConformanceThroughGateway(t *testing.T) {
	dsn(t)
	forgetest.Run(t, func(t testing.TB) driver.Conn {
		pool, _ := openPool(t, "")
		_, url := startServer(t, gateway.Config{Postgres: pool})
		c, err := neon.Open(neon.Config{ConnectionString: connString, Endpoint: url + "/sql", AuthToken: writeSecret, Fetch: nethttp.New(nil)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

// TestLibsqlConformance runs the suite through forge's libsql driver,
// over Hrana, through the gateway, on SQLite: each test gets a database
// file of its own. Interactive transactions run on Hrana streams.
func TestLibsqlConformance(t *testing.T) {
	forgetest.Run(t, func(t testing.TB) driver.Conn {
		url := sqliteServer(t, gateway.Config{})
		c, err := libsql.Open(libsql.Config{URL: url, AuthToken: writeSecret, Fetch: nethttp.New(nil)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}
