package planetscale

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// CellError reports a cell that cannot be read as its field's type.
type CellError struct {
	Type string // the field's Vitess type
	Text string // the cell (clipped)
	Err  error  // why
}

func (e *CellError) Error() string {
	return fmt.Sprintf("planetscale: cannot read %q as %s: %v", e.Text, e.Type, e.Err)
}

func (e *CellError) Unwrap() error { return e.Err }

// Decoder returns the function that reads the cells of a field (see the
// package doc); it returns a *CellError for bytes the type cannot hold.
func Decoder(f Field) func([]byte) (any, error) {
	var dec func([]byte) (any, error)
	switch f.Type {
	case "INT8", "INT16", "INT24", "INT32", "INT64", "UINT8", "UINT16", "UINT24", "UINT32", "YEAR":
		dec = decodeInt
	case "UINT64":
		dec = decodeUint64
	case "FLOAT32":
		dec = func(b []byte) (any, error) { return parseFloat(b, 32) }
	case "FLOAT64":
		dec = func(b []byte) (any, error) { return parseFloat(b, 64) }
	case "DECIMAL":
		dec = decodeDecimal
	case "DATETIME", "TIMESTAMP":
		dec = func(b []byte) (any, error) { return ParseDateTime(string(b)) }
	case "DATE":
		dec = func(b []byte) (any, error) { return ParseDateTime(string(b)) }
	case "BINARY", "VARBINARY", "BLOB", "BIT", "GEOMETRY":
		dec = decodeBytes
	case "TIME", "JSON", "VARCHAR", "CHAR", "TEXT", "ENUM", "SET", "HEXNUM", "HEXVAL", "BITNUM", "VECTOR":
		dec = decodeText
	case "NULL", "":
		dec = func(b []byte) (any, error) { return nil, nil }
		if f.Charset == BinaryCharset && f.Type != "" {
			dec = decodeBytes
		}
	default:
		if f.Charset == BinaryCharset {
			dec = decodeBytes
		} else {
			dec = decodeText
		}
	}
	typ := f.Type
	return func(b []byte) (any, error) {
		v, err := dec(b)
		if err != nil {
			return nil, &CellError{Type: typ, Text: clip(string(b)), Err: err}
		}
		return v, nil
	}
}

func decodeInt(b []byte) (any, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return nil, numErr(err)
	}
	return n, nil
}

func decodeUint64(b []byte) (any, error) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return nil, numErr(err)
	}
	if n > math.MaxInt64 {
		return string(b), nil // exact, as a decimal's text
	}
	return int64(n), nil
}

func parseFloat(b []byte, bits int) (any, error) {
	f, err := strconv.ParseFloat(string(b), bits)
	if err != nil {
		return nil, numErr(err)
	}
	return f, nil
}

func decodeDecimal(b []byte) (any, error) {
	if len(b) == 0 {
		return nil, errors.New("empty decimal")
	}
	i := 0
	if b[0] == '-' || b[0] == '+' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return nil, errors.New("not a decimal number")
		}
	}
	if digits == 0 {
		return nil, errors.New("not a decimal number")
	}
	return string(b), nil
}

func decodeBytes(b []byte) (any, error) { return append([]byte{}, b...), nil }

func decodeText(b []byte) (any, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("not valid UTF-8")
	}
	return string(b), nil
}

func numErr(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// ParseDateTime reads MySQL's DATETIME, TIMESTAMP or DATE text
// ("2006-01-02", "2006-01-02 15:04:05", with up to 6 fraction digits) as
// a time in UTC. A zero date ("0000-00-00") is an error: no time.Time
// means it.
func ParseDateTime(s string) (time.Time, error) {
	layout := "2006-01-02"
	switch {
	case len(s) == 10:
	case len(s) == 19:
		layout = "2006-01-02 15:04:05"
	case len(s) > 20 && len(s) <= 26 && s[19] == '.':
		layout = "2006-01-02 15:04:05." + "000000"[:len(s)-20]
	default:
		return time.Time{}, errors.New("not a MySQL date or datetime")
	}
	if s[:4] == "0000" || s[5:7] == "00" || s[8:10] == "00" {
		return time.Time{}, errors.New("a zero date has no time.Time value")
	}
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return time.Time{}, errors.New("not a MySQL date or datetime")
	}
	return t, nil
}

// DecodeRows reads every row of a result into the values of forge's
// driver contract: nil, int64, float64, string, []byte or time.Time.
func DecodeRows(r *Result) ([][]any, error) {
	decs := make([]func([]byte) (any, error), len(r.Fields))
	for i, f := range r.Fields {
		decs[i] = Decoder(f)
	}
	out := make([][]any, len(r.Rows))
	for i, row := range r.Rows {
		if len(row.Lengths) != len(r.Fields) {
			return nil, &ResponseError{Msg: "row " + strconv.Itoa(i) + " has " + strconv.Itoa(len(row.Lengths)) + " cells for " + strconv.Itoa(len(r.Fields)) + " fields"}
		}
		cells, err := Cells(row)
		if err != nil {
			return nil, err
		}
		vals := make([]any, len(cells))
		for c, cell := range cells {
			if cell == nil {
				continue
			}
			v, err := decs[c](cell)
			if err != nil {
				return nil, fmt.Errorf("row %d, column %d (%s): %w", i, c, r.Fields[c].Name, err)
			}
			vals[c] = v
		}
		out[i] = vals
	}
	return out, nil
}
