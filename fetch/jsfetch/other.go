//go:build !(js && wasm)

package jsfetch

import (
	"context"

	"github.com/forge-orm/forge/fetch"
)

// New returns a Fetcher; outside js/wasm it always fails with ErrUnsupported.
func New() fetch.Fetcher {
	return func(context.Context, *fetch.Request) (*fetch.Response, error) { return nil, ErrUnsupported }
}
