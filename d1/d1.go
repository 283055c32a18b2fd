//go:build js && wasm

package d1

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall/js"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch/jsfetch"
)

// Conn is a forge driver over a D1 binding. It is safe for concurrent use
// and costs nothing to create: open one per request if that is simpler.
type Conn struct {
	db js.Value
}

var (
	_ driver.Conn    = (*Conn)(nil)
	_ driver.Batcher = (*Conn)(nil)
	_ driver.Namer   = (*Conn)(nil)
)

// Open adapts a D1 binding (env.DB in JavaScript terms). It checks that
// binding looks like a D1 database and does no I/O.
func Open(binding js.Value) (*Conn, error) {
	if binding.Type() != js.TypeObject {
		return nil, fmt.Errorf("forge/d1: the binding is %s, not a D1 database; declare it under [[d1_databases]] in wrangler.toml", describe(binding))
	}
	// The binding is usually the same object on every request: check it
	// once (each method looked up costs a syscall/js Value).
	checked.Lock()
	defer checked.Unlock()
	if !binding.Equal(checked.v) {
		for _, m := range []string{"prepare", "batch"} {
			if binding.Get(m).Type() != js.TypeFunction {
				return nil, fmt.Errorf("forge/d1: the binding has no %s method: it is not a D1 database", m)
			}
		}
		checked.v = binding
	}
	return &Conn{db: binding}, nil
}

// checked is the last binding Open found to be a D1 database.
var checked struct {
	sync.Mutex
	v js.Value
}

// Env is what FromEnv needs of a Worker's environment; *workers.Env of
// package edge/workers has it.
type Env interface {
	Binding(name string) js.Value
}

// FromEnv opens the D1 binding called name (such as "DB") of env.
func FromEnv(env Env, name string) (*Conn, error) {
	if env == nil {
		return nil, errors.New("forge/d1: FromEnv with a nil env")
	}
	b := env.Binding(name)
	if b.IsUndefined() || b.IsNull() {
		return nil, fmt.Errorf("forge/d1: the Worker has no binding named %q; declare it in wrangler.toml:\n[[d1_databases]]\nbinding = %q\ndatabase_name = \"...\"\ndatabase_id = \"...\"", name, name)
	}
	return Open(b)
}

func describe(v js.Value) string {
	switch v.Type() {
	case js.TypeUndefined:
		return "undefined"
	case js.TypeNull:
		return "null"
	}
	return "a " + v.Type().String()
}

// Binding returns the D1 binding.
func (c *Conn) Binding() js.Value { return c.db }

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return "d1" }

// Dialect implements driver.Conn: SQLite with D1's parameter limit.
func (c *Conn) Dialect() dialect.Dialect { return Dialect }

// Close implements driver.Conn. The binding belongs to the runtime, so
// there is nothing to release.
func (c *Conn) Close() error { return nil }

var (
	jsArray       = js.Global().Get("Array")
	jsArrayBuffer = js.Global().Get("ArrayBuffer")
	jsObject      = js.Global().Get("Object")
	jsJSON        = js.Global().Get("JSON")
	jsReflect     = js.Global().Get("Reflect")
	jsUint8Array  = js.Global().Get("Uint8Array")
	rawOptions    = js.ValueOf(map[string]any{"columnNames": true})
)

// statement prepares sql and binds args. The arguments cross as one JSON
// array (see json.go), blobs as Uint8Arrays set into it.
func (c *Conn) statement(sql string, args []any) (js.Value, error) {
	var vals []any
	if len(args) > 0 {
		vals = make([]any, len(args))
		for i, a := range args {
			v, err := bindValue(i, a)
			if err != nil {
				return js.Value{}, err
			}
			vals[i] = v
		}
	}
	var st js.Value
	err := call(func() {
		st = c.db.Call("prepare", sql)
		if len(vals) == 0 {
			return
		}
		text, blobs := appendArgs(make([]byte, 0, 64), vals)
		list := jsJSON.Call("parse", string(text))
		for _, i := range blobs {
			b := vals[i].([]byte)
			u := jsUint8Array.New(len(b))
			js.CopyBytesToJS(u, b)
			list.SetIndex(i, u)
		}
		st = jsReflect.Call("apply", st.Get("bind"), st, list)
	})
	return st, err
}

// Query implements driver.Conn with stmt.raw({columnNames: true}).
func (c *Conn) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := c.statement(sql, args)
	if err != nil {
		return nil, err
	}
	var p js.Value
	if err := call(func() { p = st.Call("raw", rawOptions) }); err != nil {
		return nil, err
	}
	v, err := await(ctx, p)
	if err != nil {
		return nil, err
	}
	var out *driver.BufferedRows
	if err := call(func() {
		out, err = parseRaw(jsJSON.Call("stringify", v).String())
		if errors.Is(err, errSlowPath) {
			out, err = decodeRaw(v)
		}
	}); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Exec implements driver.Conn with stmt.run(), reading meta.changes and
// meta.last_row_id.
func (c *Conn) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	if err := ctx.Err(); err != nil {
		return driver.Result{}, err
	}
	st, err := c.statement(sql, args)
	if err != nil {
		return driver.Result{}, err
	}
	var p js.Value
	if err := call(func() { p = st.Call("run") }); err != nil {
		return driver.Result{}, err
	}
	v, err := await(ctx, p)
	if err != nil {
		return driver.Result{}, err
	}
	var res driver.Result
	err = call(func() { res = result(v, sql) })
	return res, err
}

// Batch implements driver.Batcher with db.batch, which D1 runs as one
// transaction: every statement takes effect or none does.
//
// D1 does not say which statement of a failed batch failed, so the error is
// a *driver.BatchError only when that is known (an argument refused before
// sending, or a batch of one); otherwise it is the statement's error itself
// (a *driver.ConstraintError or an *Error).
//
// D1 returns a batch's rows as objects keyed by column name: a statement
// whose result has two columns of the same name loses one, and the driver
// refuses a result with a column named like an integer (objects reorder
// those keys).
func (c *Conn) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	if len(stmts) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	list := jsArray.New(len(stmts))
	for i, s := range stmts {
		st, err := c.statement(s.SQL, s.Args)
		if err != nil {
			return nil, &driver.BatchError{Index: i, SQL: s.SQL, Err: err}
		}
		list.SetIndex(i, st)
	}
	var p js.Value
	if err := call(func() { p = c.db.Call("batch", list) }); err != nil {
		return nil, err
	}
	v, err := await(ctx, p)
	if err != nil {
		if len(stmts) == 1 && ctx.Err() == nil {
			return nil, &driver.BatchError{Index: 0, SQL: stmts[0].SQL, Err: err}
		}
		return nil, err
	}
	out := make([]driver.BatchResult, len(stmts))
	var derr error
	if err := call(func() { derr = decodeBatch(v, stmts, out) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	return out, nil
}

// decodeBatch reads db.batch's results into out.
func decodeBatch(v js.Value, stmts []driver.Stmt, out []driver.BatchResult) error {
	if n := v.Length(); n != len(stmts) {
		return fmt.Errorf("forge/d1: D1 returned %d results for a batch of %d statements", n, len(stmts))
	}
	for i, s := range stmts {
		r := v.Index(i)
		out[i].Result = result(r, s.SQL)
		if s.Rows {
			results := r.Get("results")
			rs, err := &driver.BufferedRows{}, error(nil)
			if results.Type() == js.TypeObject {
				rs, err = parseObjects(jsJSON.Call("stringify", results).String())
				if errors.Is(err, errSlowPath) {
					rs, err = decodeObjects(results)
				}
			}
			if err != nil {
				return &driver.BatchError{Index: i, SQL: s.SQL, Err: err}
			}
			out[i].Rows = rs
		}
	}
	return nil
}

// result reads a D1Result's meta.
func result(v js.Value, sql string) driver.Result {
	var res driver.Result
	meta := v.Get("meta")
	if meta.Type() != js.TypeObject {
		return res
	}
	if n := meta.Get("changes"); n.Type() == js.TypeNumber {
		res.RowsAffected = int64(n.Float())
	}
	if id := meta.Get("last_row_id"); id.Type() == js.TypeNumber && hasLastInsertID(sql) && res.RowsAffected > 0 {
		res.LastInsertID, res.HasLastInsertID = int64(id.Float()), true
	}
	return res
}

// decodeRaw reads the result of raw({columnNames: true}): the column
// names, then one array per row.
func decodeRaw(v js.Value) (*driver.BufferedRows, error) {
	n := v.Length()
	if n == 0 {
		return &driver.BufferedRows{}, nil
	}
	colsV := v.Index(0)
	nc := colsV.Length()
	rs := &driver.BufferedRows{Cols: make([]string, nc), Values: make([][]any, n-1)}
	for j := range rs.Cols {
		rs.Cols[j] = colsV.Index(j).String()
	}
	flat := make([]any, (n-1)*nc)
	for i := 1; i < n; i++ {
		row := v.Index(i)
		if row.Length() != nc {
			return nil, fmt.Errorf("forge/d1: D1 returned a row of %d values for %d columns", row.Length(), nc)
		}
		vals := flat[(i-1)*nc : i*nc : i*nc]
		for j := range vals {
			x, err := decodeValue(row.Index(j))
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %w", j, rs.Cols[j], err)
			}
			vals[j] = x
		}
		rs.Values[i-1] = vals
	}
	return rs, nil
}

// decodeObjects reads rows given as objects keyed by column name (what
// db.batch returns), in the key order of the first row.
func decodeObjects(v js.Value) (*driver.BufferedRows, error) {
	if v.Type() != js.TypeObject {
		return &driver.BufferedRows{}, nil
	}
	n := v.Length()
	if n == 0 {
		return &driver.BufferedRows{}, nil
	}
	keys := jsObject.Call("keys", v.Index(0))
	rs := &driver.BufferedRows{Cols: make([]string, keys.Length()), Values: make([][]any, n)}
	for j := range rs.Cols {
		k := keys.Index(j).String()
		if isArrayIndex(k) {
			return nil, fmt.Errorf("forge/d1: a batch statement returned a column named %q; D1 returns batch rows as objects, which reorder integer-like keys, so name the column otherwise", k)
		}
		rs.Cols[j] = k
	}
	nc := len(rs.Cols)
	flat := make([]any, n*nc)
	for i := 0; i < n; i++ {
		row := v.Index(i)
		vals := flat[i*nc : (i+1)*nc : (i+1)*nc]
		for j, col := range rs.Cols {
			x, err := decodeValue(row.Get(col))
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %w", j, col, err)
			}
			vals[j] = x
		}
		rs.Values[i] = vals
	}
	return rs, nil
}

// decodeValue converts one value D1 returned: null to nil, a number to
// int64 or float64 (see readNumber), a string to string, a blob (an array
// of byte numbers, or an ArrayBuffer or view) to []byte.
func decodeValue(v js.Value) (any, error) {
	switch v.Type() {
	case js.TypeNull, js.TypeUndefined:
		return nil, nil
	case js.TypeNumber:
		return readNumber(v.Float()), nil
	case js.TypeString:
		return v.String(), nil
	case js.TypeBoolean:
		return v.Bool(), nil
	case js.TypeObject:
		var u js.Value
		switch {
		case jsArray.Call("isArray", v).Bool(), v.InstanceOf(jsArrayBuffer):
			u = jsUint8Array.New(v)
		case jsArrayBuffer.Call("isView", v).Bool():
			u = jsUint8Array.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
		}
		if u.Truthy() {
			b := make([]byte, u.Length())
			js.CopyBytesToGo(b, u)
			return b, nil
		}
	}
	return nil, fmt.Errorf("forge/d1: D1 returned a value the driver cannot read: %s", js.Global().Get("String").Invoke(v).String())
}

// await waits for p without blocking the JavaScript event loop. A
// rejection becomes a mapped error. D1 offers no way to stop a running
// query: when ctx ends first, await returns ctx's error and the query runs
// on.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	v, err := jsfetch.Await(ctx, p, js.Undefined())
	if err != nil {
		var je *jsfetch.JSError
		if errors.As(err, &je) {
			return js.Value{}, mapError(je.Message)
		}
		return js.Value{}, err
	}
	return v, nil
}

// call runs f, turning a JavaScript exception thrown in it (such as a
// D1_TYPE_ERROR from bind) into a mapped error.
func call(f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			je, ok := p.(js.Error)
			if !ok {
				panic(p)
			}
			msg := je.Value.Get("message")
			if msg.Type() == js.TypeString {
				err = mapError(msg.String())
			} else {
				err = mapError(je.Error())
			}
		}
	}()
	f()
	return nil
}
