package libsql_test

import (
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/internal/testsvc"
	"github.com/forge-orm/forge/libsql"
)

// open starts a private sqld and opens the driver on it.
func open(t testing.TB) *libsql.Conn {
	t.Helper()
	return openURL(t, testsvc.SQLD(t))
}

func openURL(t testing.TB, url string) *libsql.Conn {
	t.Helper()
	c, err := libsql.Open(libsql.Config{URL: url, Fetch: nethttp.New(nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	forgetest.Run(t, func(t testing.TB) driver.Conn { return open(t) })
}
