// Package nethttp is a fetch.Fetcher over net/http, for servers and CI.
// Edge builds (GOOS=js) should use fetch/jsfetch instead.
package nethttp

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/forge-orm/forge/fetch"
)

// New returns a Fetcher that sends requests with client (http.DefaultClient
// when nil).
func New(client *http.Client) fetch.Fetcher {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context, r *fetch.Request) (*fetch.Response, error) {
		req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
		if err != nil {
			return nil, err
		}
		for _, f := range r.Header {
			req.Header.Add(f.Name, f.Value)
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return nil, err
		}
		out := &fetch.Response{Status: res.StatusCode, Body: body}
		for name, vs := range res.Header {
			for _, v := range vs {
				out.Header = append(out.Header, fetch.Field{Name: name, Value: v})
			}
		}
		return out, nil
	}
}
