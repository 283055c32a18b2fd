package forge

import (
	"unsafe"

	"github.com/forge-orm/forge/driver"
)

// scanPlan scans rows of a fixed column list into structs, through typed
// pointers computed from field offsets (each field's codec.dest): no
// reflection per row.
type scanPlan struct {
	fields []*field
	dests  []any
	raw    [][]byte // columns without a dest (JSON) are read raw, then decoded
	inline [12]any  // dests for up to 12 columns, in the plan's allocation
}

func newScanPlan(fields []*field) *scanPlan {
	p := &scanPlan{}
	p.init(fields)
	return p
}

// init makes p the plan of fields.
func (p *scanPlan) init(fields []*field) {
	p.fields = fields
	if len(fields) <= len(p.inline) {
		p.dests = p.inline[:len(fields)]
	} else {
		p.dests = make([]any, len(fields))
	}
	for _, f := range fields {
		if f.codec.dest == nil {
			p.raw = make([][]byte, len(fields))
			break
		}
	}
}

// scan reads the current row into the struct at base.
func (p *scanPlan) scan(rows driver.Rows, base unsafe.Pointer) error {
	for i, f := range p.fields {
		if f.codec.dest == nil {
			p.raw[i] = p.raw[i][:0]
			p.dests[i] = &p.raw[i]
			continue
		}
		p.dests[i] = f.dest(base)
	}
	if err := rows.Scan(p.dests...); err != nil {
		return err
	}
	if p.raw != nil {
		for i, f := range p.fields {
			if f.codec.dest == nil {
				if err := f.codec.decode(f, f.ptr(base), p.raw[i]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// rowBuf holds the rows read so far, in memory that grow (typed code: a
// model's, or Aggregate's for its result type) allocated: the untyped core
// fills it, and the generic shell hands it back as a []T (see rowsOf)
// without a copy.
type rowBuf struct {
	data unsafe.Pointer
	n, c int
	hint int     // the capacity of the first allocation; 8 when zero
	size uintptr // of one row
	grow func(data unsafe.Pointer, n, c int) unsafe.Pointer
}

// rowBuf returns an empty rowBuf for rows of m.
func (m *model) rowBuf() rowBuf { return rowBuf{size: m.size, grow: m.grow} }

// add returns the address of a new zero row at the end of buf.
func (buf *rowBuf) add() unsafe.Pointer {
	if buf.n == buf.c {
		c := 2 * buf.c
		if c == 0 {
			c = buf.hint
			if c <= 0 {
				c = 8
			}
		}
		buf.data = buf.grow(buf.data, buf.n, c)
		buf.c = c
	}
	buf.n++
	return unsafe.Add(buf.data, uintptr(buf.n-1)*buf.size)
}

// at returns the address of row i.
func (buf *rowBuf) at(i int) unsafe.Pointer {
	return unsafe.Add(buf.data, uintptr(i)*buf.size)
}

// scanRows reads at most limit rows (all when limit < 0) into buf: a query
// that wants one row does not step the statement again to find its end.
func (buf *rowBuf) scanRows(rows driver.Rows, plan *scanPlan, limit int) (int64, error) {
	if br, ok := rows.(*driver.BufferedRows); ok && buf.c == 0 && buf.hint == 0 {
		buf.hint = len(br.Values) // a whole result in memory (HTTP drivers, the cache): one allocation
	}
	read := 0
	for read != limit && rows.Next() {
		if err := plan.scan(rows, buf.add()); err != nil {
			return int64(read), err
		}
		read++
	}
	return int64(read), rows.Err()
}

// rowsOf returns the rows in buf as a []T, sharing its memory.
func rowsOf[T any](buf *rowBuf) []T {
	if buf.data == nil {
		return []T{}
	}
	return unsafe.Slice((*T)(buf.data), buf.c)[:buf.n]
}
