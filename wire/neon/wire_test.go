package neon

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeRequest(t *testing.T) {
	tr, fa := true, false
	cases := []struct {
		body string
		want Request
	}{
		// What @neondatabase/serverless 1.2 sends.
		{`{"query":"SELECT $1, $2","params":["42",null]}`,
			Request{Queries: []Query{{Query: "SELECT $1, $2", Params: []Param{TextParam("42"), {}}}}}},
		{`{"queries":[{"query":"INSERT INTO t VALUES ($1)","params":["2"]},{"query":"SELECT 1","params":[]}]}`,
			Request{Transaction: true, Queries: []Query{{Query: "INSERT INTO t VALUES ($1)", Params: []Param{TextParam("2")}}, {Query: "SELECT 1", Params: []Param{}}}}},
		// What Neon's server also accepts.
		{`{"query":"SELECT 1"}`, Request{Queries: []Query{{Query: "SELECT 1"}}}},
		{`{"query":"SELECT 1","params":null,"arrayMode":true,"other":{}}`, Request{Queries: []Query{{Query: "SELECT 1", ArrayMode: &tr}}}},
		{`{"queries":[{"query":"q","arrayMode":false}]}`, Request{Transaction: true, Queries: []Query{{Query: "q", ArrayMode: &fa}}}},
		{`{"queries":[]}`, Request{Transaction: true, Queries: []Query{}}},
		{` {"query":"x","params":[true,false,1.5,-2,1e3,{"b": [1, "x"],"a":null},[1,"two",null,[3]],["a\"b\\c"],[{"k":"<v>"}]]} `,
			Request{Queries: []Query{{Query: "x", Params: []Param{
				TextParam("true"), TextParam("false"), TextParam("1.5"), TextParam("-2"), TextParam("1e3"),
				TextParam(`{"b":[1,"x"],"a":null}`), TextParam(`{"1","two",NULL,{"3"}}`),
				TextParam(`{"a\"b\\c"}`), TextParam(`{"{\"k\":\"<v>\"}"}`)}}}}},
		// "query" wins over "queries", as with Neon's untagged payload.
		{`{"query":"a","queries":[]}`, Request{Queries: []Query{{Query: "a"}}}},
	}
	for _, c := range cases {
		got, err := DecodeRequest([]byte(c.body))
		if err != nil {
			t.Errorf("DecodeRequest(%s): %v", c.body, err)
			continue
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("DecodeRequest(%s) =\n %#v\nwant\n %#v", c.body, *got, c.want)
		}
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	for _, body := range []string{
		``, ` `, `null`, `[]`, `"query"`, `42`, `{`, `{"query":"x"} extra`, `{}`,
		`{"Query":"x"}`, `{"query":null}`, `{"query":1}`, `{"query":["x"]}`,
		`{"query":"x","params":{}}`, `{"query":"x","params":"a"}`, `{"query":"x","params":[nul]}`,
		`{"query":"x","arrayMode":"true"}`, `{"queries":null}`, `{"queries":{}}`, `{"queries":[1]}`,
		`{"queries":[{"params":[]}]}`, `{"queries":[null]}`, `{"queries":[{"query":"x","params":[[1,]]}]}`,
		"{\"query\":\"\xff\"}", `{"query":"x","params":[` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `]}`,
	} {
		r, err := DecodeRequest([]byte(body))
		var re *RequestError
		if !errors.As(err, &re) {
			t.Errorf("DecodeRequest(%.60q) = %+v, %v; want a *RequestError", body, r, err)
		}
	}
}

func TestRequestMarshal(t *testing.T) {
	b, err := json.Marshal(Request{Queries: []Query{{Query: "SELECT $1, $2 <&>", Params: []Param{TextParam(`a"<b>`), {}}}}})
	if err != nil || string(b) != `{"query":"SELECT $1, $2 \u003c\u0026\u003e","params":["a\"\u003cb\u003e",null]}` {
		t.Errorf("single: %s %v", b, err)
	}
	b, err = json.Marshal(Request{Transaction: true, Queries: []Query{{Query: "a"}, {Query: "b", Params: []Param{TextParam("1")}}}})
	if err != nil || string(b) != `{"queries":[{"query":"a","params":[]},{"query":"b","params":["1"]}]}` {
		t.Errorf("transaction: %s %v", b, err)
	}
	if _, err := json.Marshal(Request{Queries: []Query{{}, {}}}); err == nil {
		t.Error("a single-statement request of two queries was written")
	}
	// Round trip.
	in := Request{Transaction: true, Queries: []Query{{Query: "x", Params: []Param{TextParam("\x00\n\u2028é"), {}, TextParam("")}}}}
	b, _ = json.Marshal(in)
	out, err := DecodeRequest(b)
	if err != nil || !reflect.DeepEqual(*out, in) {
		t.Errorf("round trip: %+v %v", out, err)
	}
}

func TestParseCommandTag(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	for _, c := range []struct {
		tag   string
		cmd   string
		count *int64
	}{
		{"SELECT 5", "SELECT", n(5)},
		{"INSERT 0 3", "INSERT", n(3)},
		{"UPDATE 0", "UPDATE", n(0)},
		{"DELETE 12", "DELETE", n(12)},
		{"MERGE 2", "MERGE", n(2)},
		{"CREATE TABLE", "CREATE", nil},
		{"BEGIN", "BEGIN", nil},
		{"", "", nil},
		{"INSERT 0", "INSERT", nil},
		{"SET", "SET", nil},
	} {
		cmd, count := ParseCommandTag(c.tag)
		if cmd != c.cmd || !reflect.DeepEqual(count, c.count) {
			t.Errorf("ParseCommandTag(%q) = %q, %v", c.tag, cmd, count)
		}
	}
}

// The select response of the captured vectors.
const selectResponse = `{"command":"SELECT","rowCount":1,"rowAsArray":true,"fields":[
{"name":"id","dataTypeID":23,"tableID":16384,"columnID":1,"dataTypeSize":4,"dataTypeModifier":-1,"format":"text"},
{"name":"created_at","dataTypeID":1184,"tableID":16384,"columnID":1,"dataTypeSize":8,"dataTypeModifier":-1,"format":"text"},
{"name":"big","dataTypeID":20,"tableID":16384,"columnID":1,"dataTypeSize":8,"dataTypeModifier":-1,"format":"text"},
{"name":"score","dataTypeID":701,"tableID":16384,"columnID":1,"dataTypeSize":8,"dataTypeModifier":-1,"format":"text"},
{"name":"active","dataTypeID":16,"tableID":16384,"columnID":1,"dataTypeSize":1,"dataTypeModifier":-1,"format":"text"},
{"name":"meta","dataTypeID":3802,"tableID":16384,"columnID":1,"dataTypeSize":-1,"dataTypeModifier":-1,"format":"text"},
{"name":"avatar","dataTypeID":17,"tableID":16384,"columnID":1,"dataTypeSize":-1,"dataTypeModifier":-1,"format":"text"},
{"name":"price","dataTypeID":1700,"tableID":16384,"columnID":1,"dataTypeSize":-1,"dataTypeModifier":-1,"format":"text"},
{"name":"gone","dataTypeID":25,"tableID":16384,"columnID":1,"dataTypeSize":-1,"dataTypeModifier":-1,"format":"text"}],
"rows":[["42","2024-01-02 03:04:05.678+00","9007199254740993","3.5","t","{\"a\": 1}","\\x0102ff","12.50",null]]}`

func TestDecodeResult(t *testing.T) {
	r, err := DecodeResult([]byte(selectResponse))
	if err != nil {
		t.Fatal(err)
	}
	if r.Command != "SELECT" || r.RowCount == nil || *r.RowCount != 1 || !r.RowAsArray || len(r.Fields) != 9 || r.Fields[1].DataTypeID != OIDTimestamptz || r.Fields[0].TableID != 16384 {
		t.Errorf("result %+v", r)
	}
	vals, err := DecodeRows(r.Fields, r.Rows)
	if err != nil {
		t.Fatal(err)
	}
	row := vals[0]
	if row[0] != int64(42) || row[2] != int64(9007199254740993) || row[3] != 3.5 || row[4] != true || row[5] != `{"a": 1}` || string(row[6].([]byte)) != "\x01\x02\xff" || row[7] != "12.50" || row[8] != nil {
		t.Errorf("row %#v", row)
	}
	res, err := DecodeTransactionResponse([]byte(`{"results":[{"command":"INSERT","rowCount":1,"rowAsArray":true,"fields":[],"rows":[]},` + selectResponse + `]}`))
	if err != nil || len(res) != 2 || res[0].Command != "INSERT" || len(res[1].Rows) != 1 {
		t.Errorf("transaction %+v %v", res, err)
	}
	if r, err := DecodeResult([]byte(`{"command":"CREATE","rowCount":null,"rowAsArray":true,"fields":[],"rows":[]}`)); err != nil || r.RowCount != nil {
		t.Errorf("no row count: %+v %v", r, err)
	}
}

func TestDecodeResultErrors(t *testing.T) {
	for _, body := range []string{
		``, `null`, `[]`, `{}`, `{"fields":[]}`, `{"rows":[]}`,
		`{"fields":[{"name":"a","dataTypeID":23}],"rows":[["1","2"]]}`,
		`{"fields":[{"name":"a","dataTypeID":23}],"rows":[{"a":"1"}]}`,
		`{"fields":[{"name":"a","dataTypeID":23}],"rows":[[1]]}`,
		`{"fields":[{"name":"a","dataTypeID":"23"}],"rows":[]}`,
		`{"fields":{},"rows":[]}`,
	} {
		_, err := DecodeResult([]byte(body))
		var re *ResponseError
		if !errors.As(err, &re) {
			t.Errorf("DecodeResult(%s): %v, want a *ResponseError", body, err)
		}
	}
	for _, body := range []string{``, `{}`, `{"results":null}`, `{"results":{}}`, `{"results":[{}]}`, `[]`} {
		_, err := DecodeTransactionResponse([]byte(body))
		var re *ResponseError
		if !errors.As(err, &re) {
			t.Errorf("DecodeTransactionResponse(%s): %v, want a *ResponseError", body, err)
		}
	}
	// A cell its type cannot hold.
	_, err := DecodeRows([]Field{{Name: "n", DataTypeID: OIDInt4}}, [][]*string{{str("x")}})
	var ce *CellError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "(n)") {
		t.Errorf("DecodeRows: %v", err)
	}
	if _, err := DecodeRows([]Field{{DataTypeID: OIDInt4}}, [][]*string{{}}); err == nil {
		t.Error("DecodeRows of a short row succeeded")
	}
}

func TestError(t *testing.T) {
	body := `{"message":"duplicate key value violates unique constraint \"users_email_key\"","code":"23505","severity":"ERROR","detail":"Key (email)=(a@b.co) already exists.","schema":"public","table":"users","constraint":"users_email_key","file":"nbtinsert.c","line":"666","routine":"_bt_check_unique","position":null,"hint":null}`
	e, err := DecodeError([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &Error{Message: `duplicate key value violates unique constraint "users_email_key"`, Code: "23505", Severity: "ERROR",
		Detail: "Key (email)=(a@b.co) already exists.", Schema: "public", Table: "users", Constraint: "users_email_key",
		File: "nbtinsert.c", Line: "666", Routine: "_bt_check_unique"}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("DecodeError = %+v", e)
	}
	if e.Error() != `neon: ERROR: duplicate key value violates unique constraint "users_email_key" (SQLSTATE 23505)` {
		t.Errorf("Error() = %s", e.Error())
	}
	// Numbers are read as their text; a round trip keeps every field.
	e, err = DecodeError([]byte(`{"message":"m","position":12,"line":666}`))
	if err != nil || e.Position != "12" || e.Line != "666" {
		t.Errorf("numeric fields: %+v %v", e, err)
	}
	b, _ := json.Marshal(want)
	if back, err := DecodeError(b); err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("round trip: %+v %v", back, err)
	}
	for _, bad := range []string{``, `null`, `[]`, `{}`, `{"message":""}`, `upstream exploded`} {
		if _, err := DecodeError([]byte(bad)); err == nil {
			t.Errorf("DecodeError(%q) succeeded", bad)
		}
	}
}

func TestHeaders(t *testing.T) {
	for level, want := range map[string]string{ReadUncommitted: "READ UNCOMMITTED", ReadCommitted: "READ COMMITTED", RepeatableRead: "REPEATABLE READ", Serializable: "SERIALIZABLE"} {
		if got, ok := IsolationSQL(level); !ok || got != want {
			t.Errorf("IsolationSQL(%s) = %s", level, got)
		}
	}
	for _, bad := range []string{"", "serializable", "SERIALIZABLE", "Snapshot"} {
		if _, ok := IsolationSQL(bad); ok {
			t.Errorf("IsolationSQL(%q) accepted", bad)
		}
	}
	if !HeaderTrue("true") || HeaderTrue("True") || HeaderTrue("1") || HeaderTrue("") {
		t.Error("HeaderTrue")
	}
}
