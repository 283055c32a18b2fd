//go:build !(js && wasm)

package sockets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// errNotWorker is what Connect returns outside js/wasm.
var errNotWorker = fmt.Errorf("forge/sockets: Connect works only in a Worker (GOOS=js GOARCH=wasm, under edge/workers' entry module); elsewhere use net.Dial: %w", errors.ErrUnsupported)

// Conn is a TCP connection made by Connect. Outside js/wasm there is none:
// every method fails.
type Conn struct{}

var _ net.Conn = (*Conn)(nil)

// Connect returns an error matching errors.ErrUnsupported outside js/wasm.
func Connect(ctx context.Context, addr string, opts *Options) (*Conn, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if _, _, err := splitAddr(addr); err != nil {
		return nil, err
	}
	return nil, errNotWorker
}

// Read fails outside js/wasm.
func (c *Conn) Read(p []byte) (int, error) { return 0, errNotWorker }

// Write fails outside js/wasm.
func (c *Conn) Write(p []byte) (int, error) { return 0, errNotWorker }

// Close fails outside js/wasm.
func (c *Conn) Close() error { return errNotWorker }

// StartTLS fails outside js/wasm.
func (c *Conn) StartTLS() (*Conn, error) { return nil, errNotWorker }

// LocalAddr returns an empty Addr outside js/wasm.
func (c *Conn) LocalAddr() net.Addr { return Addr("") }

// RemoteAddr returns an empty Addr outside js/wasm.
func (c *Conn) RemoteAddr() net.Addr { return Addr("") }

// SetDeadline fails outside js/wasm.
func (c *Conn) SetDeadline(t time.Time) error { return errNotWorker }

// SetReadDeadline fails outside js/wasm.
func (c *Conn) SetReadDeadline(t time.Time) error { return errNotWorker }

// SetWriteDeadline fails outside js/wasm.
func (c *Conn) SetWriteDeadline(t time.Time) error { return errNotWorker }
