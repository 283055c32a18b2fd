package forge

import "encoding/json"

// jsonCodec encodes and decodes the values of a JSON field. Fields.JSON and
// Fields.NullJSON set it on the field, so that encoding/json is linked only
// into programs whose models declare a JSON field: it costs a Cloudflare
// Worker about 120 KB gzipped, and start time.
type jsonCodec struct {
	marshal   func(v any) ([]byte, error)
	unmarshal func(data []byte, v any) error
}

// stdJSON is encoding/json.
var stdJSON = jsonCodec{marshal: json.Marshal, unmarshal: json.Unmarshal}
