package workers

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/forge-orm/forge/fetch"
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

// Path returns the path of the request's URL ("/users"), or "" when the URL
// does not parse.
func (r *Request) Path() string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return ""
	}
	return u.Path
}

// Query returns the first value of the URL's query parameter name, or "".
func (r *Request) Query(name string) string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return ""
	}
	return u.Query().Get(name)
}

// Response is an HTTP response. A zero Status means 200.
type Response struct {
	Status int
	Header fetch.Header
	Body   []byte
}

// JSON returns a response with v encoded as JSON and the content type
// application/json. It fails only when v cannot be encoded. Its shape lets a
// handler end with
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
