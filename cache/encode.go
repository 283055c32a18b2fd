package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"time"
)

// The binary form of an Entry, for stores that keep bytes (Redis, KV):
// a version byte, then the key, generation, times, columns and rows, each
// value tagged with its type. Integers are varints.
const entryVersion = 1

const (
	tagNil byte = iota
	tagInt
	tagFloat
	tagFalse
	tagTrue
	tagString
	tagBytes
	tagTime
)

// MarshalBinary encodes e.
func (e *Entry) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 64+len(e.Key))
	b = append(b, entryVersion)
	b = appendString(b, e.Key)
	b = binary.AppendUvarint(b, e.Gen)
	b = binary.AppendVarint(b, e.Fresh)
	b = binary.AppendVarint(b, e.Until)
	b = binary.AppendUvarint(b, uint64(len(e.Columns)))
	for _, c := range e.Columns {
		b = appendString(b, c)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Rows)))
	for _, row := range e.Rows {
		b = binary.AppendUvarint(b, uint64(len(row)))
		for _, v := range row {
			switch v.(type) {
			case nil, int64, float64, bool, string, []byte, time.Time:
			default:
				return nil, fmt.Errorf("forge/cache: cannot encode a %T", v)
			}
			b = appendValue(b, v)
		}
	}
	return b, nil
}

var errCorrupt = errors.New("forge/cache: corrupt cache entry")

// UnmarshalBinary decodes what MarshalBinary encoded; anything else is an
// error, never a panic.
func (e *Entry) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if d.byte() != entryVersion {
		return errCorrupt
	}
	e.Key = d.string()
	e.Gen = d.uvarint()
	e.Fresh = d.varint()
	e.Until = d.varint()
	n := d.count()
	e.Columns = make([]string, n)
	for i := range e.Columns {
		e.Columns[i] = d.string()
	}
	n = d.count()
	e.Rows = make([][]any, n)
	for i := range e.Rows {
		row := make([]any, d.count())
		for j := range row {
			row[j] = d.value()
		}
		e.Rows[i] = row
	}
	if d.err != nil || len(d.b) != 0 {
		return errCorrupt
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue writes a driver value with its tag. Values outside the
// driver value set are written with their type name, so that they differ
// in keys (the entry encoder refuses them).
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, tagNil)
	case int64:
		return binary.AppendVarint(append(b, tagInt), x)
	case int32:
		return binary.AppendVarint(append(b, tagInt), int64(x))
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x))
	case bool:
		if x {
			return append(b, tagTrue)
		}
		return append(b, tagFalse)
	case string:
		return appendString(append(b, tagString), x)
	case []byte:
		b = binary.AppendUvarint(append(b, tagBytes), uint64(len(x)))
		return append(b, x...)
	case time.Time:
		x = x.UTC()
		b = binary.AppendVarint(append(b, tagTime), x.Unix())
		return binary.AppendUvarint(b, uint64(x.Nanosecond()))
	}
	return appendString(append(b, 0xff), fmt.Sprintf("%T %v", v, v))
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errCorrupt, nil }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length, bounded by the bytes left (every item takes one).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) value() any {
	switch d.byte() {
	case tagNil:
		return nil
	case tagInt:
		return d.varint()
	case tagFloat:
		if len(d.b) < 8 {
			d.fail()
			return nil
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return v
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagString:
		return d.string()
	case tagBytes:
		return append([]byte{}, d.bytes()...)
	case tagTime:
		s, ns := d.varint(), d.uvarint()
		if ns >= 1e9 {
			d.fail()
			return nil
		}
		return time.Unix(s, int64(ns)).UTC()
	}
	d.fail()
	return nil
}

// mixGen combines the generations of an entry's dependencies into one
// value that changes when either does (a collision is a 2^-64 chance).
func mixGen(a, b uint64) uint64 {
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], a)
	binary.LittleEndian.PutUint64(buf[8:], b)
	h := fnv.New64a()
	h.Write(buf[:])
	return h.Sum64()
}

// MixGenerations combines the generations of the names Store.Get was
// given, in order, into the one value it returns; stores other than
// Memory use it.
func MixGenerations(gens []uint64) uint64 {
	if len(gens) == 0 {
		return 0
	}
	g := gens[0]
	for _, x := range gens[1:] {
		g = mixGen(g, x)
	}
	return g
}

// HashKey returns a short fixed-length form of a cache key (128-bit
// FNV-1a, hex), for stores whose keys are limited in length. It is not
// collision-resistant against a chosen key: stores keep the full key in
// the entry and the cache checks it, so a collision is a miss.
func HashKey(key string) string {
	h := fnv.New128a()
	h.Write([]byte(key))
	var sum [16]byte
	const hexd = "0123456789abcdef"
	out := make([]byte, 32)
	for i, c := range h.Sum(sum[:0]) {
		out[2*i], out[2*i+1] = hexd[c>>4], hexd[c&15]
	}
	return string(out)
}
