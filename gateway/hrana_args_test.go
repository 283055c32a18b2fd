package gateway_test

import (
	"net/http"
	"testing"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/internal/testsvc"
	"github.com/forge-orm/forge/wire/hrana"
)

// TestHranaArgsLikeSqld sends the same statements with every argument
// style (?, ?NNN, :name, @name, $name and mixes of them; positional,
// named, both, too few, too many, duplicated names) to the real sqld and
// to the gateway, and checks that both answer alike: the same rows, or
// the same error code and message.
func TestHranaArgsLikeSqld(t *testing.T) {
	sqld := testsvc.SQLD(t)
	gw := sqliteServer(t, gateway.Config{})
	txt := hrana.TextValue
	type named = []hrana.NamedArg
	na := func(kv ...string) named {
		var out named
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, hrana.NamedArg{Name: kv[i], Value: txt(kv[i+1])})
		}
		return out
	}
	cases := []struct {
		sql   string
		args  []hrana.Value
		named named
	}{
		{"SELECT ?, ?", []hrana.Value{txt("one"), txt("two")}, nil},
		{"SELECT ?2, ?3, ?1", []hrana.Value{txt("one"), txt("two"), txt("three")}, nil},
		{"SELECT ?3, ?1", []hrana.Value{txt("one"), txt("two"), txt("three")}, nil},
		{"SELECT ?2, ?, ?3", []hrana.Value{txt("one"), txt("two"), txt("three")}, nil},
		{"SELECT ?, ?1", []hrana.Value{txt("one")}, nil},
		{"SELECT :b, :a", nil, na("a", "one", ":b", "two")},
		{"SELECT @b, @a, @b || @a", nil, na("a", "one", "@b", "two")},
		{"SELECT $b, $a, ?1", nil, na("a", "one", "$b", "two")},
		{"SELECT :b, :a, ?1", nil, na("a", "one", ":b", "two")},
		{"SELECT @b, ?1", nil, na("b", "x")},
		{"SELECT :a, ?2", nil, na("a", "x")},
		{"SELECT ?1, :a", nil, na("a", "x")},
		{"SELECT ?2, :b", nil, na("b", "x")},
		{"SELECT @b, $b, :b", nil, na("b", "B")},
		{"SELECT :b", nil, na("x", "y")},
		{"SELECT :A", nil, na("a", "y")},
		{"SELECT ?1", nil, na("1", "y")},
		{"SELECT ?1", nil, na("?1", "y")},
		{"SELECT :a", nil, na(":a", "x", "a", "y")},
		{"SELECT :a", nil, na("a", "x", "a", "y")},
		{"SELECT :a, :b", nil, na("a", "x", "a", "y")},
		{"SELECT $a, @a", nil, na("@a", "y")},
		{"SELECT :a, ?", nil, nil},
		{"SELECT ?, ?", []hrana.Value{txt("x")}, nil},
		{"SELECT ?", []hrana.Value{txt("x"), txt("y")}, nil},
		{"SELECT ?5", []hrana.Value{txt("x")}, nil},
		{"SELECT ?1, :a", []hrana.Value{txt("x"), txt("y")}, nil},
		{"SELECT :a", []hrana.Value{txt("x")}, nil},
		{"SELECT :a", []hrana.Value{txt("x")}, na("a", "y")},
		{"SELECT 1", nil, na("a", "x")},
		{"SELECT 1", []hrana.Value{txt("x")}, nil},
		{"SELECT 1", nil, nil},
		{"SELECT ?", []hrana.Value{hrana.IntegerValue(-9223372036854775808)}, nil},
		{"SELECT :x, :y", nil, named{{Name: "x", Value: hrana.BlobValue([]byte{0, 1})}, {Name: ":y", Value: hrana.FloatValue(1.5)}}},
	}
	post := func(base, token string, s hrana.Stmt) hrana.StreamResult {
		body, err := (&hrana.PipelineRequest{Requests: []hrana.StreamRequest{hrana.ExecuteRequest(s), hrana.CloseRequest()}}).AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		r := do(t, http.MethodPost, base+"/v2/pipeline", token, string(body), nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: HTTP %d %s", base, r.status, r.body)
		}
		resp, err := hrana.DecodePipelineResponse(r.body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Results[0]
	}
	var rows, errs int
	for _, tc := range cases {
		s := hrana.Stmt{SQL: &tc.sql, Args: tc.args, NamedArgs: tc.named}
		want := post(sqld, "", s)
		got := post(gw, writeSecret, s)
		if want.Error != nil || got.Error != nil {
			if jsonOf(want.Error) != jsonOf(got.Error) {
				t.Errorf("%s %s %s:\n gateway %s\n    sqld %s", tc.sql, jsonOf(tc.args), jsonOf(tc.named), jsonOf(got.Error), jsonOf(want.Error))
			}
			errs++
			continue
		}
		if g, w := jsonOf(got.Response.Execute.Rows), jsonOf(want.Response.Execute.Rows); g != w {
			t.Errorf("%s %s %s:\n gateway %s\n    sqld %s", tc.sql, jsonOf(tc.args), jsonOf(tc.named), g, w)
		}
		rows++
	}
	if rows < 10 || errs < 10 {
		t.Errorf("%d cases answered with rows, %d with errors: the comparison is too thin", rows, errs)
	}
}
