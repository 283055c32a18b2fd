package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/sqlite"
)

func openTemp(t testing.TB) driver.Conn {
	conn, err := sqlite.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestConformance(t *testing.T) {
	forgetest.Run(t, openTemp)
}

func TestConformanceInMemory(t *testing.T) {
	forgetest.Run(t, func(t testing.TB) driver.Conn {
		conn, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		return conn
	})
}

func TestMigrate(t *testing.T) {
	forgetest.RunMigrate(t, openTemp)
}

// The conformance suite with a cache of one statement per connection: every
// other statement evicts it, often while its rows are still open.
func TestConformanceTinyStatementCache(t *testing.T) {
	forgetest.Run(t, func(t testing.TB) driver.Conn {
		conn, err := sqlite.Open(filepath.Join(t.TempDir(), "test.db"), sqlite.StatementCache(1))
		if err != nil {
			t.Fatal(err)
		}
		return conn
	})
}
