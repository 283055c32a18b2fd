package mysql_test

import (
	"testing"

	"github.com/forge-orm/forge/forgetest"
)

// forge's Watch on MySQL/MariaDB, which has no change probe yet: the query
// runs at every interval (not Quiet), and every change is still seen.
func TestWatch(t *testing.T) {
	dsn(t)
	forgetest.RunWatch(t, openDB, forgetest.WatchOptions{})
}
