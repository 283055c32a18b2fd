package forge

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
	"unsafe"

	"github.com/forge-orm/forge/dialect"
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
	checkDefault func(v any) (any, error)
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

// codecKey indexes codecs: kind, and whether the field is nullable.
type codecKey struct {
	kind     schema.Kind
	nullable bool
}

// codecs is the behaviour of every (kind, nullable) pair forge accepts.
var codecs = map[codecKey]*codec{
	{schema.ID, false}:     intCodec,
	{schema.Int64, false}:  intCodec,
	{schema.Int64, true}:   nullCodec[int64](intKey, int64Arg),
	{schema.Int32, false}:  plainCodec[int32](int32Key, int32Arg),
	{schema.Int32, true}:   nullCodec[int32](int32Key, int32Arg),
	{schema.TextID, false}: textCodec,
	{schema.Text, false}:   textCodec,
	{schema.Text, true}:    nullCodec[string](textKey, textArg),
	{schema.Float, false}:  plainCodec[float64](nil, nil),
	{schema.Float, true}:   nullCodec[float64](nil, nil),
	{schema.Bool, false}:   plainCodec[bool](nil, nil),
	{schema.Bool, true}:    nullCodec[bool](nil, nil),
	{schema.Time, false}:   plainCodec[time.Time](nil, nil),
	{schema.Time, true}:    nullCodec[time.Time](nil, nil),
	{schema.Bytes, false}:  bytesCodec(false),
	{schema.Bytes, true}:   bytesCodec(true),
	{schema.JSON, false}:   jsonCodec(false),
	{schema.JSON, true}:    jsonCodec(true),
}

var (
	intCodec  = plainCodec[int64](intKey, int64Arg)
	textCodec = plainCodec[string](textKey, textArg)
)

func intKey(p unsafe.Pointer) relKey   { return relKey{n: *(*int64)(p)} }
func int32Key(p unsafe.Pointer) relKey { return relKey{n: int64(*(*int32)(p))} }
func textKey(p unsafe.Pointer) relKey  { return relKey{s: *(*string)(p)} }
func int64Arg(k relKey) any            { return k.n }
func int32Arg(k relKey) any            { return int32(k.n) }
func textArg(k relKey) any             { return k.s }

// plainCodec is the codec of a non-null scalar field of Go type V. key
// reads a V at p as a relation key (nil: not a key kind).
func plainCodec[V any](key func(unsafe.Pointer) relKey, arg func(relKey) any) *codec {
	c := &codec{
		dest:   func(p unsafe.Pointer) any { return (*V)(p) },
		value:  func(_ *field, p unsafe.Pointer) any { return *(*V)(p) },
		encode: func(d dialect.Dialect, f *field, v any) (any, error) { return encodeScalar(d, f, v) },
		setDefault: func(f *field, p unsafe.Pointer, now time.Time) {
			if f.def.Now {
				*(*time.Time)(p) = now
				return
			}
			*(*V)(p) = f.def.Value.(V)
		},
		checkDefault: checkDefault[V],
		keyArg:       arg,
		differs:      reflect.TypeFor[V]() == reflect.TypeFor[time.Time](),
	}
	if key != nil {
		c.key = func(p unsafe.Pointer) (relKey, bool) { return key(p), true }
	}
	return c
}

// checkDefault accepts a default of Go type V.
func checkDefault[V any](v any) (any, error) {
	if _, ok := v.(V); !ok {
		return nil, fmt.Errorf("value %v has type %T, the field holds %s", v, v, reflect.TypeFor[V]())
	}
	return v, nil
}

// nullCodec is the codec of a nullable scalar field of Go type *V: nil is
// NULL.
func nullCodec[V any](key func(unsafe.Pointer) relKey, arg func(relKey) any) *codec {
	c := &codec{
		dest:  func(p unsafe.Pointer) any { return (**V)(p) },
		value: func(_ *field, p unsafe.Pointer) any { return *(**V)(p) },
		encode: func(d dialect.Dialect, f *field, v any) (any, error) {
			x := v.(*V)
			if x == nil {
				return nil, nil
			}
			return encodeScalar(d, f, *x)
		},
		setDefault: func(f *field, p unsafe.Pointer, now time.Time) {
			if f.def.Now {
				t := now
				*(**time.Time)(p) = &t
				return
			}
			v := f.def.Value.(V)
			*(**V)(p) = &v
		},
		checkDefault: checkDefault[V],
		keyArg:       arg,
		differs:      reflect.TypeFor[V]() == reflect.TypeFor[time.Time](),
	}
	if key != nil {
		c.key = func(p unsafe.Pointer) (relKey, bool) {
			if *(**V)(p) == nil {
				return relKey{}, false
			}
			// A *V points to a V: read it as the non-null key does.
			return key(unsafe.Pointer(*(**V)(p))), true
		}
	}
	return c
}

// bytesCodec is the codec of a []byte field: nil is NULL when nullable,
// the empty value otherwise.
func bytesCodec(nullable bool) *codec {
	return &codec{
		dest:  func(p unsafe.Pointer) any { return (*[]byte)(p) },
		value: func(_ *field, p unsafe.Pointer) any { return *(*[]byte)(p) },
		encode: func(_ dialect.Dialect, _ *field, v any) (any, error) {
			bs := v.([]byte)
			switch {
			case bs != nil:
				return bs, nil
			case nullable:
				return nil, nil
			}
			return []byte{}, nil
		},
		checkDefault: checkDefault[[]byte],
		setDefault:   func(f *field, p unsafe.Pointer, _ time.Time) { *(*[]byte)(p) = f.def.Value.([]byte) },
	}
}

// jsonCodec is the codec of a JSON field, whose Go type is the model's
// choice: it goes through reflect and encoding/json, once per value.
func jsonCodec(nullable bool) *codec {
	return &codec{
		value: func(f *field, p unsafe.Pointer) any { return reflect.NewAt(f.typ, p).Elem().Interface() },
		encode: func(_ dialect.Dialect, f *field, v any) (any, error) {
			if nullable && isNil(v) {
				return nil, nil
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, &QueryError{Model: f.m.name, Msg: "field " + f.name + ": " + err.Error()}
			}
			return string(b), nil
		},
		checkDefault: func(v any) (any, error) {
			b, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			return string(b), nil
		},
		setDefault: func(f *field, p unsafe.Pointer, _ time.Time) {
			_ = json.Unmarshal([]byte(f.def.Value.(string)), reflect.NewAt(f.typ, p).Interface())
		},
		decode: func(f *field, p unsafe.Pointer, raw []byte) error {
			dst := reflect.NewAt(f.typ, p)
			if raw == nil {
				dst.Elem().SetZero()
				return nil
			}
			if err := json.Unmarshal(raw, dst.Interface()); err != nil {
				return &QueryError{Model: f.m.name, Msg: "field " + f.name + ": decoding JSON: " + err.Error()}
			}
			return nil
		},
		differs: true,
	}
}

// encodeScalar converts one non-NULL scalar as forge stores it: times in
// the dialect's form.
func encodeScalar(d dialect.Dialect, _ *field, v any) (any, error) {
	if t, ok := v.(time.Time); ok {
		return d.EncodeTime(t), nil
	}
	return v, nil
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
