//go:build !(js && wasm)

package d1

// Conn is the D1 driver. Outside GOOS=js GOARCH=wasm it cannot be opened:
// see ErrUnsupported.
type Conn struct{}

// Open returns ErrUnsupported outside GOOS=js GOARCH=wasm, where there is
// no D1 binding. (In js/wasm builds binding is a syscall/js Value.)
func Open(binding any) (*Conn, error) { return nil, ErrUnsupported }

// FromEnv returns ErrUnsupported outside GOOS=js GOARCH=wasm.
func FromEnv(env any, name string) (*Conn, error) { return nil, ErrUnsupported }

// Session returns ErrUnsupported outside GOOS=js GOARCH=wasm.
func (c *Conn) Session(bookmark string) (*Conn, error) { return nil, ErrUnsupported }

// Bookmark returns "" outside GOOS=js GOARCH=wasm.
func (c *Conn) Bookmark() string { return "" }
