// Package hrana holds the JSON messages of Hrana, the protocol of libSQL's
// server (sqld) and Turso, over HTTP: the pipeline request and response of
// versions 2 and 3 (POST /v2/pipeline, /v3/pipeline; version 3's JSON is a
// superset of version 2's), their stream requests and responses, batch
// conditions, statements, results, errors and values.
//
// It does no I/O and imports nothing of forge: the libsql driver and
// forge's gateway both build on it.
//
// # Values
//
// A [Value] is NULL, an integer, a float, text or a blob:
//
//	{"type":"null"}
//	{"type":"integer","value":"9223372036854775807"}  decimal string: exact over all of int64
//	{"type":"float","value":3.5}                      JSON number
//	{"type":"text","value":"Zoë"}
//	{"type":"blob","base64":"AQL/"}                   standard base64; padded or not when decoding
//
// JSON cannot carry NaN or ±Inf: encoding such a float fails with
// [ErrNonFiniteFloat], and a float whose value is null (which is what sqld
// sends for them) fails to decode.
//
// # Errors
//
// Decoding never panics. Input that is not JSON, or JSON that does not
// have the protocol's shape (a missing field, an unknown type, an integer
// that is not a decimal int64, bad base64, a row whose width differs from
// the columns'), gives a [*DecodeError]; a bad value inside it is a
// [*ValueError]. Encoding a message that breaks the protocol (a request
// without its statement, a NaN) gives a [*EncodeError].
//
// DecodePipelineResponse reads the shapes servers send in one pass without
// reflection, several times faster than encoding/json and with a fifth of
// its allocations; anything unusual (escaped or repeated keys, a field of
// an unexpected type, invalid JSON) is left to encoding/json, which then
// decides, so both paths always read alike (FuzzFastDecode).
//
// Every message type appends its JSON to a byte slice (AppendJSON) and is
// a json.Marshaler (on values and pointers) and a json.Unmarshaler with
// the decoders' checks, so it can also sit inside a caller's own JSON.
package hrana
