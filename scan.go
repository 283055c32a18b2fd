package forge

import (
	"reflect"
	"time"
	"unsafe"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
)

// scanPlan scans rows of a fixed column list into structs, through typed
// pointers computed from field offsets: no reflection per row.
type scanPlan struct {
	fields  []*field
	dests   []any
	raw     [][]byte // JSON columns are read raw, then decoded
	hasJSON bool
}

func newScanPlan(fields []*field) *scanPlan {
	p := &scanPlan{fields: fields, dests: make([]any, len(fields))}
	for _, f := range fields {
		if f.kind == schema.JSON {
			p.hasJSON = true
			p.raw = make([][]byte, len(fields))
			break
		}
	}
	return p
}

// scan reads the current row into the struct at base.
func (p *scanPlan) scan(rows driver.Rows, base unsafe.Pointer) error {
	for i, f := range p.fields {
		if f.kind == schema.JSON {
			p.raw[i] = p.raw[i][:0]
			p.dests[i] = &p.raw[i]
			continue
		}
		p.dests[i] = f.dest(base)
	}
	if err := rows.Scan(p.dests...); err != nil {
		return err
	}
	if p.hasJSON {
		for i, f := range p.fields {
			if f.kind != schema.JSON {
				continue
			}
			dst := reflect.NewAt(f.typ, f.ptr(base))
			if p.raw[i] == nil {
				dst.Elem().SetZero()
				continue
			}
			if err := f.json.unmarshal(p.raw[i], dst.Interface()); err != nil {
				return &QueryError{Model: f.m.name, Msg: "field " + f.name + ": decoding JSON: " + err.Error()}
			}
		}
	}
	return nil
}

// dest returns the typed scan destination for the field of the struct at base.
func (f *field) dest(base unsafe.Pointer) any {
	p := f.ptr(base)
	if f.nullable {
		switch f.kind {
		case schema.Text:
			return (**string)(p)
		case schema.Int64:
			return (**int64)(p)
		case schema.Int32:
			return (**int32)(p)
		case schema.Float:
			return (**float64)(p)
		case schema.Bool:
			return (**bool)(p)
		case schema.Time:
			return (**time.Time)(p)
		case schema.Bytes:
			return (*[]byte)(p)
		}
	}
	switch f.kind {
	case schema.Text, schema.TextID:
		return (*string)(p)
	case schema.ID, schema.Int64:
		return (*int64)(p)
	case schema.Int32:
		return (*int32)(p)
	case schema.Float:
		return (*float64)(p)
	case schema.Bool:
		return (*bool)(p)
	case schema.Time:
		return (*time.Time)(p)
	case schema.Bytes:
		return (*[]byte)(p)
	}
	return nil
}

// scanAll scans every row into a new slice of T.
func scanAll[T any](rows driver.Rows, plan *scanPlan, sizeHint int) ([]T, error) {
	return scanUpTo[T](rows, plan, sizeHint, -1)
}

// scanUpTo scans at most max rows (all when max < 0): a query that wants
// one row does not step the statement again to find its end.
func scanUpTo[T any](rows driver.Rows, plan *scanPlan, sizeHint, max int) ([]T, error) {
	out := make([]T, 0, sizeHint)
	var zero T
	for len(out) != max && rows.Next() {
		out = append(out, zero)
		if err := plan.scan(rows, unsafe.Pointer(&out[len(out)-1])); err != nil {
			return out, err
		}
	}
	return out, rows.Err()
}
