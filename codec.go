package forge

import (
	"errors"
	"fmt"
	"reflect"
	"time"
	"unsafe"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
)

// codec is everything forge does with the values of one column kind, for
// non-null or for nullable fields. A field points to its codec once, when
// it is declared; the builder, the scanner, the include loader and Create
// call through it. Adding a kind is one entry in codecs plus its column
// types in the dialects (TestCodecTable fails for a kind without one).
type codec struct {
	// dest returns the scan destination for the field at p: a pointer of
	// the driver port's value contract. JSON has none: it is read raw and
	// decoded (see scanPlan).
	dest func(p unsafe.Pointer) any
	// value returns the field at p as a value of its Go type (what Eq and
	// Set take), for encode.
	value func(f *field, p unsafe.Pointer) any
	// encode converts a value of the field's Go type into the value bound
	// for the driver; nil means NULL.
	encode func(d dialect.Dialect, f *field, v any) (any, error)
	// key returns the field at p as a relation key, ok false when it is
	// NULL; nil for kinds that cannot be keys.
	key func(p unsafe.Pointer) (k relKey, ok bool)
	// keyArg turns a key back into the value bound for the driver.
	keyArg func(k relKey) any
	// checkDefault checks a value given to FieldBuilder.Default and
	// returns it as the schema descriptor holds it.
	checkDefault func(f *field, v any) (any, error)
	// setDefault stores the field's declared default at p.
	setDefault func(f *field, p unsafe.Pointer, now time.Time)
	// decode stores a column read raw (dest is nil) into the field at p.
	decode func(f *field, p unsafe.Pointer, raw []byte) error
	// differs is true when the database may store a value in another form
	// than the one sent (times, JSON): an INSERT then reads every column
	// back.
	differs bool
}

// relKey is a relation key of any key kind, comparable without boxing.
type relKey struct {
	n int64
	s string
}

// codecs is the behaviour of every (kind, nullable) pair forge accepts,
// indexed by kind, then 0 for non-null and 1 for nullable fields. The
// entries are plain data over small functions (generic over the Go type
// where they only move a value), so the table costs no code per entry, and
// an array of them is laid out by the linker: nothing runs at start.
var codecs = [...][2]*codec{
	schema.ID: {
		&intCodec,
		nil,
	},
	schema.TextID: {
		&textCodec,
		nil,
	},
	schema.Text: {
		&textCodec,
		&codec{dest: nullDest[string], value: nullValue[string], encode: nullEncode[string], key: nullTextKey, keyArg: textArg, checkDefault: checkDefault[string], setDefault: nullSet[string]},
	},
	schema.Int64: {
		&intCodec,
		&codec{dest: nullDest[int64], value: nullValue[int64], encode: nullEncode[int64], key: nullIntKey, keyArg: int64Arg, checkDefault: checkDefault[int64], setDefault: nullSet[int64]},
	},
	schema.Int32: {
		&codec{dest: dest[int32], value: value[int32], encode: encodePlain, key: int32Key, keyArg: int32Arg, checkDefault: checkDefault[int32], setDefault: set[int32]},
		&codec{dest: nullDest[int32], value: nullValue[int32], encode: nullEncode[int32], key: nullInt32Key, keyArg: int32Arg, checkDefault: checkDefault[int32], setDefault: nullSet[int32]},
	},
	schema.Float: {
		&codec{dest: dest[float64], value: value[float64], encode: encodePlain, checkDefault: checkDefault[float64], setDefault: set[float64]},
		&codec{dest: nullDest[float64], value: nullValue[float64], encode: nullEncode[float64], checkDefault: checkDefault[float64], setDefault: nullSet[float64]},
	},
	schema.Bool: {
		&codec{dest: dest[bool], value: value[bool], encode: encodePlain, checkDefault: checkDefault[bool], setDefault: set[bool]},
		&codec{dest: nullDest[bool], value: nullValue[bool], encode: nullEncode[bool], checkDefault: checkDefault[bool], setDefault: nullSet[bool]},
	},
	schema.Time: {
		&codec{dest: dest[time.Time], value: value[time.Time], encode: encodePlain, checkDefault: checkDefault[time.Time], setDefault: setTime, differs: true},
		&codec{dest: nullDest[time.Time], value: nullValue[time.Time], encode: nullEncode[time.Time], checkDefault: checkDefault[time.Time], setDefault: nullSetTime, differs: true},
	},
	schema.Bytes: {
		&codec{dest: dest[[]byte], value: value[[]byte], encode: encodeBytes, checkDefault: checkDefault[[]byte], setDefault: set[[]byte]},
		&codec{dest: dest[[]byte], value: value[[]byte], encode: encodeNullBytes, checkDefault: checkDefault[[]byte], setDefault: set[[]byte]},
	},
	schema.JSON: {
		&jsonValueCodec,
		&codec{value: jsonValue, encode: encodeNullJSON, checkDefault: checkJSONDefault, setDefault: setJSON, decode: decodeJSON, differs: true},
	},
}

// codecFor returns the codec of a kind, or nil for a pair forge does not
// accept.
func codecFor(kind schema.Kind, nullable bool) *codec {
	if int(kind) >= len(codecs) {
		return nil
	}
	n := 0
	if nullable {
		n = 1
	}
	return codecs[kind][n]
}

var (
	intCodec       = codec{dest: dest[int64], value: value[int64], encode: encodePlain, key: intKey, keyArg: int64Arg, checkDefault: checkDefault[int64], setDefault: set[int64]}
	textCodec      = codec{dest: dest[string], value: value[string], encode: encodePlain, key: textKey, keyArg: textArg, checkDefault: checkDefault[string], setDefault: set[string]}
	jsonValueCodec = codec{value: jsonValue, encode: encodeJSON, checkDefault: checkJSONDefault, setDefault: setJSON, decode: decodeJSON, differs: true}
)

// A non-null field of Go type V.

func dest[V any](p unsafe.Pointer) any            { return (*V)(p) }
func value[V any](_ *field, p unsafe.Pointer) any { return *(*V)(p) }
func set[V any](f *field, p unsafe.Pointer, _ time.Time) {
	*(*V)(p) = f.def.Value.(V)
}

func encodePlain(d dialect.Dialect, f *field, v any) (any, error) { return encodeScalar(d, f, 0, v) }

func setTime(f *field, p unsafe.Pointer, now time.Time) {
	if f.def.Now {
		*(*time.Time)(p) = now
		return
	}
	*(*time.Time)(p) = f.def.Value.(time.Time)
}

// A nullable field of Go type *V: nil is NULL.

func nullDest[V any](p unsafe.Pointer) any            { return (**V)(p) }
func nullValue[V any](_ *field, p unsafe.Pointer) any { return *(**V)(p) }
func nullSet[V any](f *field, p unsafe.Pointer, _ time.Time) {
	v := f.def.Value.(V)
	*(**V)(p) = &v
}

func nullEncode[V any](d dialect.Dialect, f *field, v any) (any, error) {
	x := v.(*V)
	if x == nil {
		return nil, nil
	}
	return encodeScalar(d, f, 0, *x)
}

func nullSetTime(f *field, p unsafe.Pointer, now time.Time) {
	t := now
	if !f.def.Now {
		t = f.def.Value.(time.Time)
	}
	*(**time.Time)(p) = &t
}

// checkDefault accepts a default of Go type V that follows the value
// rules (driver.CheckValue).
func checkDefault[V any](_ *field, v any) (any, error) {
	if _, ok := v.(V); !ok {
		return nil, fmt.Errorf("value %v has type %T, the field holds %s", v, v, reflect.TypeFor[V]())
	}
	if reason := driver.CheckValue(v); reason != "" {
		return nil, errors.New(reason)
	}
	return v, nil
}

// Relation keys.

func intKey(p unsafe.Pointer) (relKey, bool)   { return relKey{n: *(*int64)(p)}, true }
func int32Key(p unsafe.Pointer) (relKey, bool) { return relKey{n: int64(*(*int32)(p))}, true }
func textKey(p unsafe.Pointer) (relKey, bool)  { return relKey{s: *(*string)(p)}, true }

func nullIntKey(p unsafe.Pointer) (relKey, bool) {
	if x := *(**int64)(p); x != nil {
		return relKey{n: *x}, true
	}
	return relKey{}, false
}

func nullInt32Key(p unsafe.Pointer) (relKey, bool) {
	if x := *(**int32)(p); x != nil {
		return relKey{n: int64(*x)}, true
	}
	return relKey{}, false
}

func nullTextKey(p unsafe.Pointer) (relKey, bool) {
	if x := *(**string)(p); x != nil {
		return relKey{s: *x}, true
	}
	return relKey{}, false
}

func int64Arg(k relKey) any { return k.n }
func int32Arg(k relKey) any { return int32(k.n) }
func textArg(k relKey) any  { return k.s }

// Bytes: a nil slice is NULL when the field is nullable, the empty value
// otherwise.

func encodeBytes(_ dialect.Dialect, _ *field, v any) (any, error) {
	if bs := v.([]byte); bs != nil {
		return bs, nil
	}
	return []byte{}, nil
}

func encodeNullBytes(_ dialect.Dialect, _ *field, v any) (any, error) {
	if bs := v.([]byte); bs != nil {
		return bs, nil
	}
	return nil, nil
}

// JSON: the field's Go type is the model's choice, so its values go
// through reflect and the field's jsonCodec (encoding/json, linked only
// when a model declares a JSON field), once per value.

func jsonValue(f *field, p unsafe.Pointer) any { return reflect.NewAt(f.typ, p).Elem().Interface() }

func encodeNullJSON(d dialect.Dialect, f *field, v any) (any, error) {
	if isNil(v) {
		return nil, nil
	}
	return encodeJSON(d, f, v)
}

func encodeJSON(_ dialect.Dialect, f *field, v any) (any, error) {
	b, err := f.json.marshal(v)
	if err != nil {
		return nil, &QueryError{Model: f.m.name, Msg: "field " + f.name + ": " + err.Error()}
	}
	if reason := jsonProblem(b); reason != "" {
		return nil, &ValueError{Model: f.m.name, Field: f.name, Value: v, Reason: reason}
	}
	return string(b), nil
}

func checkJSONDefault(f *field, v any) (any, error) {
	b, err := f.json.marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func setJSON(f *field, p unsafe.Pointer, _ time.Time) {
	_ = f.json.unmarshal([]byte(f.def.Value.(string)), reflect.NewAt(f.typ, p).Interface())
}

func decodeJSON(f *field, p unsafe.Pointer, raw []byte) error {
	dst := reflect.NewAt(f.typ, p)
	if raw == nil {
		dst.Elem().SetZero()
		return nil
	}
	if err := f.json.unmarshal(raw, dst.Interface()); err != nil {
		return &QueryError{Model: f.m.name, Msg: "field " + f.name + ": decoding JSON: " + err.Error()}
	}
	return nil
}

// encode converts a value of f's Go type into the value bound for the
// driver; nil means NULL.
func encode(d dialect.Dialect, f *field, v any) (any, error) { return f.codec.encode(d, f, v) }

// load reads field f of the struct at base as a driver value (encoded).
func (f *field) load(d dialect.Dialect, base unsafe.Pointer) (any, error) {
	return f.codec.encode(d, f, f.codec.value(f, f.ptr(base)))
}

// dest returns the typed scan destination for the field of the struct at
// base.
func (f *field) dest(base unsafe.Pointer) any { return f.codec.dest(f.ptr(base)) }

// key returns the field of the struct at base as a relation key; ok is
// false when it is NULL.
func (f *field) key(base unsafe.Pointer) (relKey, bool) { return f.codec.key(f.ptr(base)) }

// pkValue returns the primary key of the struct at base for mutation
// events: int64 or string.
func (f *field) pkValue(base unsafe.Pointer) any {
	k, _ := f.key(base)
	return f.codec.keyArg(k)
}

// setDefault stores the field's default into the struct at base.
func (f *field) setDefault(base unsafe.Pointer, now time.Time) {
	f.codec.setDefault(f, f.ptr(base), now)
}

// isZero reports whether the field holds its Go zero value.
func (f *field) isZero(base unsafe.Pointer) bool {
	return reflect.NewAt(f.typ, f.ptr(base)).Elem().IsZero()
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
