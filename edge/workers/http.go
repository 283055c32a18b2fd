package workers

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/wire/jsonx"
)

// Request is an incoming HTTP request, with its whole body.
type Request struct {
	Method string
	// URL is the full URL the Worker was called with, such as
	// "https://example.com/users?take=10".
	URL    string
	Header fetch.Header
	Body   []byte
}

// Path returns the decoded path of the request's URL ("/users"), or ""
// when it has an invalid %-escape. (net/url would add about 65 KB gzipped
// to a Worker; URLs here are the runtime's, absolute and normalised.)
func (r *Request) Path() string {
	p := r.URL
	if i := strings.Index(p, "://"); i >= 0 {
		p = p[i+3:]
		if j := strings.IndexAny(p, "/?#"); j >= 0 {
			p = p[j:]
		} else {
			p = ""
		}
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	s, ok := unescape(p, false)
	if !ok {
		return ""
	}
	return s
}

// Query returns the first value of the URL's query parameter name, or "".
// As net/url does, "+" means a space, and pairs with an invalid %-escape
// are skipped.
func (r *Request) Query(name string) string {
	q := r.URL
	i := strings.IndexByte(q, '?')
	if i < 0 {
		return ""
	}
	q = q[i+1:]
	if j := strings.IndexByte(q, '#'); j >= 0 {
		q = q[:j]
	}
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, ok := unescape(k, true)
		if !ok || key != name {
			continue
		}
		if val, ok := unescape(v, true); ok {
			return val
		}
	}
	return ""
}

// unescape decodes %-escapes (and "+" as a space when plus), reporting
// false for an invalid escape.
func unescape(s string, plus bool) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return "", false
			}
			b = append(b, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
			i += 2
		case c == '+' && plus:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// Response is an HTTP response. A zero Status means 200.
type Response struct {
	Status int
	Header fetch.Header
	Body   []byte
}

// JSON returns a response with v encoded as JSON (by encoding/json) and the
// content type application/json. It fails only when v cannot be encoded.
// Its shape lets a handler end with
//
//	return workers.JSON(200, users)
func JSON(status int, v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Response{
		Status: status,
		Header: fetch.Header{{Name: "content-type", Value: "application/json; charset=utf-8"}},
		Body:   b,
	}, nil
}

// LeanJSON returns a response with v written as JSON without reflection,
// and the content type application/json. v may be nil, a bool, a string, an
// integer, a finite float, a time.Time, a []any, []string, map[string]any
// or map[string]string (keys sorted), a JSONAppender, or any nesting of
// those; anything else is an error naming its type. Unlike JSON, it does not
// link encoding/json into the Worker (about 120 KB gzipped, and a slower
// first request): a Worker that never calls JSON or encoding/json saves
// both.
func LeanJSON(status int, v any) (*Response, error) {
	b, err := jsonx.Append(nil, v)
	if err != nil {
		return nil, err
	}
	return &Response{
		Status: status,
		Header: fetch.Header{{Name: "content-type", Value: "application/json; charset=utf-8"}},
		Body:   b,
	}, nil
}

// JSONAppender is a value that writes itself as one JSON value, for
// LeanJSON and AppendJSON: a model can implement it to be listed without
// reflection.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// AppendJSON appends v as JSON to b, as LeanJSON writes it; on error b is
// returned unchanged.
func AppendJSON(b []byte, v any) ([]byte, error) { return jsonx.Append(b, v) }

// AppendJSONString appends s as a JSON string (escaped as encoding/json
// does, but for <, > and &; invalid UTF-8 becomes U+FFFD): the piece an
// AppendJSON method needs most.
func AppendJSONString(b []byte, s string) []byte { return jsonx.AppendString(b, s) }

// ParseJSON decodes a JSON document, such as a request body, without
// reflection: objects become map[string]any, arrays []any, numbers float64,
// and strings, booleans and null string, bool and nil, as encoding/json
// decodes into an any. Data after the value and nesting deeper than 1000
// levels are errors.
func ParseJSON(b []byte) (any, error) { return jsonx.Parse(b) }

// Text returns a plain-text response. Its error is always nil; it returns
// one so that a handler can end with
//
//	return workers.Text(404, "not found")
func Text(status int, s string) (*Response, error) {
	return &Response{
		Status: status,
		Header: fetch.Header{{Name: "content-type", Value: "text/plain; charset=utf-8"}},
		Body:   []byte(s),
	}, nil
}

// checkResponse reports a response the runtime would refuse to build.
//
//lint:ignore U1000 used by the js && wasm build (serve.go), which staticcheck does not load
func checkResponse(r *Response) error {
	s := r.Status
	if s == 0 {
		s = 200
	}
	if s < 200 || s > 599 {
		return fmt.Errorf("forge/workers: the handler answered status %d; a Worker response needs 200-599", r.Status)
	}
	if (s == 204 || s == 205 || s == 304) && len(r.Body) > 0 {
		return fmt.Errorf("forge/workers: the handler answered status %d with a body; that status has none", s)
	}
	return nil
}

//go:embed js/worker.mjs
var entryModule []byte

// EntryModule returns the Worker's JavaScript entry module (worker.mjs). It
// imports "./wasm_exec.js" (copy it from $(go env GOROOT)/lib/wasm) and the
// compiled Go program as "./app.wasm". The forge-worker command writes all
// three.
func EntryModule() []byte { return append([]byte(nil), entryModule...) }
