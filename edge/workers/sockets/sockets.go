//go:build js && wasm

package sockets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall/js"
	"time"

	"github.com/forge-orm/forge/edge/workers"
)

// Conn is a TCP connection opened by the runtime's connect(). It
// implements net.Conn: one Read and one Write may run at the same time,
// from different goroutines.
type Conn struct {
	sock, reader, writer js.Value
	local, remote        Addr
	starttls             bool
	io                   *workers.RequestIO // the owning request, under workers.Serve

	rmu     sync.Mutex      // one Read at a time; guards the fields below
	pending chan readResult // the outstanding JavaScript read, if any
	buf     []byte          // bytes read but not yet returned
	eof     error           // io.EOF or the read error, once seen
	wmu     sync.Mutex      // one Write at a time
	rdl     deadline        // read deadline
	wdl     deadline        // write deadline
	closed  chan struct{}   // closed by Close (or StartTLS)
	once    sync.Once
}

var _ net.Conn = (*Conn)(nil)

type readResult struct {
	data []byte
	done bool  // the stream ended
	err  error // the read failed
}

// deadline is a settable point in time; changed is closed (and replaced)
// whenever it moves, to wake a Read or Write waiting on the old one.
type deadline struct {
	mu      sync.Mutex
	t       time.Time
	changed chan struct{}
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	d.t = t
	if d.changed != nil {
		close(d.changed)
	}
	d.changed = make(chan struct{})
	d.mu.Unlock()
}

func (d *deadline) get() (time.Time, chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.changed == nil {
		d.changed = make(chan struct{})
	}
	return d.t, d.changed
}

var (
	jsUint8Array = js.Global().Get("Uint8Array")
	jsObject     = js.Global().Get("Object")
	jsNoop       = js.Global().Get("Function").New()
)

// Connect opens a TCP connection to addr ("host:port") with the runtime's
// connect(), and waits until it is open (socket.opened), or until ctx ends.
// opts may be nil. Outside a Worker started by edge/workers' entry module it
// returns an error matching errors.ErrUnsupported.
func Connect(ctx context.Context, addr string, opts *Options) (*Conn, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	host, port, err := splitAddr(addr)
	if err != nil {
		return nil, err
	}
	hook := js.Global().Get("__forgeWorkers")
	var connect js.Value
	if hook.Type() == js.TypeObject {
		connect = hook.Get("connect")
	}
	if connect.Type() != js.TypeFunction {
		return nil, fmt.Errorf("forge/sockets: this runtime offers no connect(): sockets work in a Cloudflare Worker started by edge/workers' entry module (worker.mjs, which imports it from cloudflare:sockets): %w", errors.ErrUnsupported)
	}
	target := jsObject.New()
	target.Set("hostname", host)
	target.Set("port", port)
	o := jsObject.New()
	secure := "off"
	if opts != nil {
		if opts.SecureTransport != "" {
			secure = opts.SecureTransport
		}
		o.Set("allowHalfOpen", opts.AllowHalfOpen)
	}
	o.Set("secureTransport", secure)
	rio, err := workers.HoldIO(ctx)
	if err != nil && !errors.Is(err, workers.ErrNoRequest) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: Addr(addr), Err: err}
	}
	c := &Conn{remote: Addr(addr), starttls: secure == "starttls", io: rio, closed: make(chan struct{})}
	opened := make(chan readResult, 1)
	err = c.do(func() {
		if err := call(func() { c.sock = connect.Invoke(target, o) }); err != nil {
			opened <- readResult{err: err}
			return
		}
		if err := c.streams(); err != nil {
			opened <- readResult{err: err}
			return
		}
		c.settle(c.sock.Get("opened"), opened, func(info js.Value) readResult {
			if info.Type() == js.TypeObject {
				if l := info.Get("localAddress"); l.Type() == js.TypeString {
					return readResult{data: []byte(l.String())}
				}
			}
			return readResult{}
		})
	})
	if err == nil {
		select {
		case r := <-opened:
			err = r.err
			c.local = Addr(r.data)
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		c.closeFor()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: Addr(addr), Err: err}
	}
	return c, nil
}

// do runs f (which calls JavaScript and does not block) inside the
// request that owns the socket, or here when there is none (outside
// workers.Serve).
func (c *Conn) do(f func()) error {
	if c.io == nil {
		f()
		return nil
	}
	return c.io.Run(f)
}

// streams locks the socket's streams for c; it runs inside do.
func (c *Conn) streams() error {
	return call(func() {
		c.reader = c.sock.Get("readable").Call("getReader")
		c.writer = c.sock.Get("writable").Call("getWriter")
	})
}

// settle sends what promise settles with to ch: conv of its value, or its
// rejection. It runs inside do.
func (c *Conn) settle(promise js.Value, ch chan readResult, conv func(js.Value) readResult) {
	var ok, fail js.Func
	ok = js.FuncOf(func(this js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- conv(v)
		ok.Release()
		fail.Release()
		return nil
	})
	fail = js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- readResult{err: jsError(args)}
		ok.Release()
		fail.Release()
		return nil
	})
	if err := call(func() { promise.Call("then", ok, fail) }); err != nil {
		ok.Release()
		fail.Release()
		ch <- readResult{err: err}
	}
}

// Read reads up to len(p) bytes. It returns io.EOF once the peer has
// closed its side, net.ErrClosed after Close, and an error matching
// os.ErrDeadlineExceeded when the read deadline passes (the bytes of the
// read in flight then go to the next Read).
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	if c.isClosed() {
		return 0, c.opError("read", net.ErrClosed)
	}
	if c.eof != nil {
		return 0, c.eof
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.pending == nil {
			c.pending = c.startRead()
		}
		r, err := c.wait(c.pending, &c.rdl)
		if err != nil {
			return 0, c.opError("read", err)
		}
		c.pending = nil
		switch {
		case r.err != nil:
			c.eof = c.opError("read", r.err)
			return 0, c.eof
		case r.done:
			c.eof = io.EOF
			return 0, io.EOF
		case len(r.data) == 0:
			continue // an empty chunk: read again
		}
		n := copy(p, r.data)
		c.buf = r.data[n:]
		return n, nil
	}
}

// startRead calls reader.read() and returns where its result will arrive.
func (c *Conn) startRead() chan readResult {
	ch := make(chan readResult, 1)
	err := c.do(func() {
		var p js.Value
		if err := call(func() { p = c.reader.Call("read") }); err != nil {
			ch <- readResult{err: err}
			return
		}
		c.settle(p, ch, func(v js.Value) readResult {
			var r readResult
			if v.Get("done").Truthy() {
				r.done = true
			} else if chunk := v.Get("value"); chunk.Type() == js.TypeObject {
				r.data = make([]byte, chunk.Get("byteLength").Int())
				js.CopyBytesToGo(r.data, chunk)
			}
			return r
		})
	})
	if err != nil {
		ch <- readResult{err: err}
	}
	return ch
}

// wait waits for ch, the deadline d, or Close. On a deadline or Close ch
// is left as it is, to be waited on again.
func (c *Conn) wait(ch chan readResult, d *deadline) (readResult, error) {
	for {
		t, changed := d.get()
		var timeout <-chan time.Time
		var timer *time.Timer
		if !t.IsZero() {
			left := time.Until(t)
			if left <= 0 {
				return readResult{}, os.ErrDeadlineExceeded
			}
			timer = time.NewTimer(left)
			timeout = timer.C
		}
		select {
		case r := <-ch:
			if timer != nil {
				timer.Stop()
			}
			return r, nil
		case <-timeout:
			return readResult{}, os.ErrDeadlineExceeded
		case <-changed:
			if timer != nil {
				timer.Stop()
			}
		case <-c.closed:
			if timer != nil {
				timer.Stop()
			}
			return readResult{}, net.ErrClosed
		}
	}
}

// Write writes p to the socket and waits until the runtime has taken it.
// It returns net.ErrClosed after Close, and an error matching
// os.ErrDeadlineExceeded when the write deadline passes first (p may still
// be written then).
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.isClosed() {
		return 0, c.opError("write", net.ErrClosed)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if t, _ := c.wdl.get(); !t.IsZero() && !time.Now().Before(t) {
		return 0, c.opError("write", os.ErrDeadlineExceeded)
	}
	chunk := jsUint8Array.New(len(p))
	js.CopyBytesToJS(chunk, p)
	ch := make(chan readResult, 1)
	err := c.do(func() {
		var w js.Value
		if err := call(func() { w = c.writer.Call("write", chunk) }); err != nil {
			ch <- readResult{err: err}
			return
		}
		c.settle(w, ch, func(js.Value) readResult { return readResult{} })
	})
	if err != nil {
		return 0, c.opError("write", err)
	}
	r, err := c.wait(ch, &c.wdl)
	if err == nil {
		err = r.err
	}
	if err != nil {
		return 0, c.opError("write", err)
	}
	return len(p), nil
}

// Close closes the socket. Reads and Writes blocked in it return
// net.ErrClosed. Closing twice returns net.ErrClosed.
func (c *Conn) Close() error {
	first := false
	c.once.Do(func() {
		first = true
		c.shut()
	})
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	return nil
}

// shut marks c closed, closes the socket and lets the request go; it runs
// once, under c.once.
func (c *Conn) shut() {
	close(c.closed)
	_ = c.do(func() {
		if c.sock.Type() == js.TypeObject {
			_ = call(func() { c.sock.Call("close").Call("catch", jsNoop) })
		}
	})
	if c.io != nil {
		c.io.Release()
	}
}

// StartTLS upgrades the connection to TLS with the runtime's
// socket.startTls() and returns the new connection; c is closed (unusable)
// afterwards, whether or not the upgrade succeeds. The socket must have
// been opened with SecureTransport "starttls", and no Read may be in
// flight. The TLS handshake runs with the first Read or Write of the new
// connection, which report its errors; the runtime checks the server's
// certificate against the host name given to Connect.
func (c *Conn) StartTLS() (*Conn, error) {
	if !c.starttls {
		return nil, errors.New(`forge/sockets: StartTLS needs a socket opened with SecureTransport "starttls"`)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.isClosed() {
		return nil, c.opError("starttls", net.ErrClosed)
	}
	if c.pending != nil || len(c.buf) > 0 {
		c.closeFor()
		return nil, errors.New("forge/sockets: StartTLS with plain-text bytes read or a read in flight: the TLS handshake would lose them (upgrade right after the server's go-ahead, with no Read pending)")
	}
	n := &Conn{remote: c.remote, local: c.local, io: c.io, closed: make(chan struct{})}
	done := make(chan error, 1)
	err := c.do(func() {
		done <- call(func() {
			c.reader.Call("releaseLock")
			c.writer.Call("releaseLock")
			n.sock = c.sock.Call("startTls")
		})
	})
	if err == nil {
		err = <-done
	}
	if err == nil {
		err = n.do(func() { done <- n.streams() })
		if err == nil {
			err = <-done
		}
	}
	if err != nil {
		_ = c.do(func() { _ = call(func() { c.sock.Call("close").Call("catch", jsNoop) }) })
	}
	// c is done with: the new socket (or nothing) replaces it, and takes
	// over its hold on the request.
	c.io = nil
	c.once.Do(func() { close(c.closed) })
	if err != nil {
		n.closeFor()
		return nil, c.opError("starttls", err)
	}
	return n, nil
}

func (c *Conn) closeFor() { c.once.Do(c.shut) }

func (c *Conn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// LocalAddr returns the local address the runtime reported, if any.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the address given to Connect ("host:port"), so that
// dialing it again reaches the same server.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

// SetReadDeadline sets the read deadline; a zero t means none. A Read
// waiting when it passes returns; the read in flight is kept for the next
// Read.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rdl.set(t); return nil }

// SetWriteDeadline sets the write deadline; a zero t means none.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wdl.set(t); return nil }

func (c *Conn) opError(op string, err error) error {
	if err == io.EOF {
		return err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: err}
}

// jsError turns a promise's rejection into an error.
func jsError(args []js.Value) error {
	if len(args) == 0 {
		return errors.New("the socket failed")
	}
	v := args[0]
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			return errors.New(m.String())
		}
	}
	return errors.New(js.Global().Get("String").Invoke(v).String())
}

// call runs f and turns a JavaScript exception thrown inside it into an
// error.
func call(f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			je, ok := p.(js.Error)
			if !ok {
				panic(p)
			}
			err = errors.New(je.Error())
		}
	}()
	f()
	return nil
}
