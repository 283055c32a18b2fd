package hrana_test

import (
	"testing"

	"github.com/forge-orm/forge/wire/hrana"
)

// sqld's replication_index (a string holding an unsigned integer) is read
// by both decoders, written back by the encoder, and refused when it is
// not a number.
func TestReplicationIndex(t *testing.T) {
	body := []byte(`{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":"18446744073709551615"}}},{"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":null}}}]}`)
	if _, err := hrana.FastDecodeAgrees(body); err != nil {
		t.Fatal(err)
	}
	r, err := hrana.DecodePipelineResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Results[0].Response.Execute.ReplicationIndex
	if got == nil || *got != 1<<64-1 {
		t.Fatalf("replication index = %v", got)
	}
	if r.Results[1].Response.Execute.ReplicationIndex != nil {
		t.Fatal("a null replication index was read as a number")
	}
	out, err := r.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := hrana.DecodePipelineResponse(out)
	if err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if g := again.Results[0].Response.Execute.ReplicationIndex; g == nil || *g != *got {
		t.Fatalf("after a round trip: %v (%s)", g, out)
	}
	for _, bad := range []string{`"x"`, `"-1"`, `"18446744073709551616"`, `3`} {
		b := []byte(`{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":` + bad + `}}}]}`)
		if _, err := hrana.DecodePipelineResponse(b); err == nil {
			t.Errorf("replication_index %s was accepted", bad)
		}
	}
}
