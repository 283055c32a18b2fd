package pgerr

import (
	"slices"
	"testing"
)

func TestKeyColumns(t *testing.T) {
	for _, tc := range []struct {
		detail string
		want   []string
	}{
		{`Key (email)=(a@b.c) already exists.`, []string{"email"}},
		{`Key (scope, name)=(s, n) already exists.`, []string{"scope", "name"}},
		{`Key ("Odd ""Name"", x")=(v) already exists.`, []string{`Odd "Name", x`}},
		{`Key ("we""ird col", email)=(a, )=() already exists.`, []string{`we"ird col`, "email"}},
		{`Key ("a)=(b", "c")=(1, 2) already exists.`, []string{"a)=(b", "c"}},
		{`Key ("")=(x)`, []string{""}},
		{`Key (author_id)=(5) is not present in table "users".`, []string{"author_id"}},
		{`Key (lower(email))=(x) already exists.`, nil},
		{`Key ("unterminated)=(x)`, nil},
		{`Failing row contains (1, null).`, nil},
		{``, nil},
	} {
		if got := keyColumns(tc.detail); !slices.Equal(got, tc.want) {
			t.Errorf("keyColumns(%q) = %q, want %q", tc.detail, got, tc.want)
		}
	}
}

func TestConstraintPrefersColumn(t *testing.T) {
	ce := Constraint(Fields{Code: "23502", Column: `my "col"`, Detail: `Failing row contains (1, null).`}, nil)
	if ce == nil || !slices.Equal(ce.Columns, []string{`my "col"`}) {
		t.Errorf("%#v", ce)
	}
}
