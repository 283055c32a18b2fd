package remote

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// WireRequest is the body of a JSON protocol request.
type WireRequest struct {
	Statements []WireStatement `json:"statements"`
	Atomic     bool            `json:"atomic,omitempty"`
}

// WireStatement is one statement on the wire.
type WireStatement struct {
	SQL  string      `json:"sql"`
	Args []WireValue `json:"args,omitempty"`
	Rows bool        `json:"rows,omitempty"`
}

// WireResponse is the body of a successful reply.
type WireResponse struct {
	Results []WireResult `json:"results"`
}

// WireResult is one statement's result on the wire.
type WireResult struct {
	Columns      []string      `json:"columns,omitempty"`
	Rows         [][]WireValue `json:"rows,omitempty"`
	RowsAffected int64         `json:"rowsAffected"`
	LastInsertID *int64        `json:"lastInsertId,omitempty"`
}

// WireErrorBody is the body of a failed reply.
type WireErrorBody struct {
	Error WireError `json:"error"`
}

// WireError describes a failure.
type WireError struct {
	Message    string   `json:"message"`
	Index      *int     `json:"index,omitempty"`
	Kind       string   `json:"kind,omitempty"` // unique, foreign key, not null, check
	Constraint string   `json:"constraint,omitempty"`
	Table      string   `json:"table,omitempty"`
	Columns    []string `json:"columns,omitempty"`
}

// WireValue is a typed value: JSON null, or an object with exactly one of
// int, float, bool, text, bytes, time.
type WireValue struct{ V any }

// MarshalJSON implements json.Marshaler.
func (w WireValue) MarshalJSON() ([]byte, error) {
	switch x := w.V.(type) {
	case nil:
		return []byte("null"), nil
	case int64:
		return json.Marshal(map[string]string{"int": strconv.FormatInt(x, 10)})
	case int32:
		return json.Marshal(map[string]string{"int": strconv.FormatInt(int64(x), 10)})
	case int:
		return json.Marshal(map[string]string{"int": strconv.Itoa(x)})
	case float64:
		switch {
		case math.IsNaN(x):
			return []byte(`{"float":"NaN"}`), nil
		case math.IsInf(x, 1):
			return []byte(`{"float":"Infinity"}`), nil
		case math.IsInf(x, -1):
			return []byte(`{"float":"-Infinity"}`), nil
		}
		return json.Marshal(map[string]float64{"float": x})
	case bool:
		return json.Marshal(map[string]bool{"bool": x})
	case string:
		return json.Marshal(map[string]string{"text": x})
	case []byte:
		return json.Marshal(map[string]string{"bytes": base64.StdEncoding.EncodeToString(x)})
	case time.Time:
		return json.Marshal(map[string]string{"time": x.Format(time.RFC3339Nano)})
	}
	return nil, fmt.Errorf("forge/remote: cannot encode a %T", w.V)
}

// UnmarshalJSON implements json.Unmarshaler.
func (w *WireValue) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		w.V = nil
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("forge/remote: a value must be null or a typed object: %w", err)
	}
	if len(m) != 1 {
		return errors.New("forge/remote: a typed value has exactly one key")
	}
	for k, raw := range m {
		switch k {
		case "int":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("forge/remote: int must be a decimal string: %w", err)
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("forge/remote: int %q: %w", s, err)
			}
			w.V = v
		case "float":
			var f float64
			if err := json.Unmarshal(raw, &f); err == nil {
				w.V = f
				return nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return errors.New("forge/remote: float must be a number or NaN/Infinity/-Infinity")
			}
			switch s {
			case "NaN":
				w.V = math.NaN()
			case "Infinity":
				w.V = math.Inf(1)
			case "-Infinity":
				w.V = math.Inf(-1)
			default:
				return fmt.Errorf("forge/remote: float %q", s)
			}
		case "bool":
			var v bool
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("forge/remote: bool: %w", err)
			}
			w.V = v
		case "text":
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("forge/remote: text: %w", err)
			}
			w.V = v
		case "bytes":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("forge/remote: bytes: %w", err)
			}
			v, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return fmt.Errorf("forge/remote: bytes: %w", err)
			}
			w.V = v
		case "time":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("forge/remote: time: %w", err)
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return fmt.Errorf("forge/remote: time: %w", err)
			}
			w.V = t
		default:
			return fmt.Errorf("forge/remote: unknown value type %q", k)
		}
	}
	return nil
}

// WireValues wraps Go values for the wire.
func WireValues(vs []any) []WireValue {
	out := make([]WireValue, len(vs))
	for i, v := range vs {
		out[i] = WireValue{V: v}
	}
	return out
}

// GoValues unwraps wire values.
func GoValues(ws []WireValue) []any {
	out := make([]any, len(ws))
	for i, w := range ws {
		out[i] = w.V
	}
	return out
}
