package gateway_test

import (
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/gateway"
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
