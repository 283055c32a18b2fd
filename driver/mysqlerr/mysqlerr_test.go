package mysqlerr_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/mysqlerr"
)

func TestConstraint(t *testing.T) {
	cause := errors.New("the server's error")
	for _, tc := range []struct {
		n        int
		msg      string
		keyTable bool
		kind     driver.ConstraintKind
		name     string
		table    string
		cols     []string
	}{
		{1062, "Duplicate entry 'a@x' for key 'users_email_key'", false, driver.Unique, "users_email_key", "", nil},
		{1062, "Duplicate entry 'a@x' for key 'users.users_email_key'", true, driver.Unique, "users_email_key", "users", nil},
		// MariaDB names the key alone, dots included.
		{1062, "Duplicate entry 'w' for key 'odd.t_we\"ird col_key'", false, driver.Unique, "odd.t_we\"ird col_key", "", nil},
		// The entry holds the key's text: the last one is the key.
		{1062, "Duplicate entry 'x for key 'y'' for key 'k'", false, driver.Unique, "k", "", nil},
		{1062, "Duplicate entry '7' for key 'PRIMARY'", false, driver.Unique, "", "", nil},
		{1452, "Cannot add or update a child row: a foreign key constraint fails (`db`.`posts`, CONSTRAINT `posts_author_id_fkey` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE CASCADE)", false, driver.ForeignKey, "posts_author_id_fkey", "posts", nil},
		{1451, "Cannot delete or update a parent row: a foreign key constraint fails (`db`.`we``ird`, CONSTRAINT `fk``x` FOREIGN KEY (`a`) REFERENCES `p` (`id`))", false, driver.ForeignKey, "fk`x", "we`ird", nil},
		{1048, "Column 'name' cannot be null", false, driver.NotNull, "", "", []string{"name"}},
		{1364, "Field 'name' doesn't have a default value", false, driver.NotNull, "", "", []string{"name"}},
		{3819, "Check constraint 'n_positive' is violated.", false, driver.Check, "n_positive", "", nil},
		{4025, "CONSTRAINT `n_positive` failed for `db`.`checked`", false, driver.Check, "n_positive", "checked", nil},
	} {
		ce := mysqlerr.Constraint(tc.n, tc.msg, tc.keyTable, cause)
		if ce == nil || ce.Kind != tc.kind || ce.Constraint != tc.name || ce.Table != tc.table || !slices.Equal(ce.Columns, tc.cols) || ce.Err != cause {
			t.Errorf("%d %q: %+v", tc.n, tc.msg, ce)
		}
	}
	for _, n := range []int{1064, 1146, 0} {
		if ce := mysqlerr.Constraint(n, "You have an error in your SQL syntax", false, cause); ce != nil {
			t.Errorf("error %d read as %+v", n, ce)
		}
	}
	// Unreadable texts still give the kind.
	if ce := mysqlerr.Constraint(1062, "Duplicate", false, cause); ce == nil || ce.Kind != driver.Unique || ce.Constraint != "" {
		t.Errorf("a short message: %+v", ce)
	}
}
