// Package fetch is the transport port of forge's HTTP drivers: a Fetcher
// sends one HTTP request and returns the whole response. It imports
// neither net/http nor syscall/js, so a driver written against it links
// only the transport the program chooses:
//
//   - fetch/jsfetch: the JavaScript runtime's fetch, through syscall/js
//     (GOOS=js GOARCH=wasm: Cloudflare Workers, browsers, Node).
//   - fetch/nethttp: net/http, for servers and CI.
//
// net/http adds about 7 MB to a js/wasm binary; an edge build that uses
// jsfetch never links it.
package fetch

import (
	"context"
	"fmt"
)

// Request is an HTTP request with its whole body.
type Request struct {
	Method string
	URL    string
	Header Header
	Body   []byte
}

// Response is an HTTP response with its whole body.
type Response struct {
	Status int
	Header Header
	Body   []byte
}

// Header holds header fields. Names are compared case-insensitively by
// Get; Set stores them as given.
type Header []Field

// Field is one header field.
type Field struct{ Name, Value string }

// Get returns the value of the first field named name (case-insensitive),
// or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if equalFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Set replaces every field named name with one field of that value.
func (h *Header) Set(name, value string) {
	out := (*h)[:0]
	for _, f := range *h {
		if !equalFold(f.Name, name) {
			out = append(out, f)
		}
	}
	*h = append(out, Field{name, value})
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Fetcher sends req and returns the response. It returns an error only when
// no response arrived (a network failure, a cancelled context); an HTTP
// error status is a Response. It must honour ctx's cancellation and be safe
// for concurrent use.
type Fetcher func(ctx context.Context, req *Request) (*Response, error)

// StatusError describes a response whose status the driver did not expect.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	body := e.Body
	if len(body) > 512 {
		body = body[:512] + "..."
	}
	return fmt.Sprintf("forge/fetch: HTTP status %d: %s", e.Status, body)
}
