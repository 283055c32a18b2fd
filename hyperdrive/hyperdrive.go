//go:build js && wasm

package hyperdrive

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall/js"
	"time"

	"github.com/forge-orm/forge/edge/workers/sockets"
	"github.com/forge-orm/forge/pgx"
	jpgx "github.com/jackc/pgx/v5"
)

// Env is what Open needs of a Worker's environment; *workers.Env of
// package edge/workers has it.
type Env interface {
	Binding(name string) js.Value
	WaitUntil(f func(ctx context.Context))
}

// Open connects to PostgreSQL through the Hyperdrive binding called name
// (such as "HYPERDRIVE") of env, for the request whose context is ctx:
// when ctx ends (the handler has returned), the connection is closed,
// inside env.WaitUntil so that the runtime lets the close finish. Open a
// connection in each request that needs one; do not keep it.
func Open(ctx context.Context, env Env, name string) (*pgx.Conn, error) {
	if env == nil {
		return nil, errors.New("forge/hyperdrive: Open with a nil env")
	}
	b := env.Binding(name)
	if b.IsUndefined() || b.IsNull() {
		return nil, fmt.Errorf("forge/hyperdrive: the Worker has no binding named %q; declare it in wrangler.toml:\n[[hyperdrive]]\nbinding = %q\nid = \"...\"", name, name)
	}
	conn, err := Connect(ctx, b)
	if err != nil {
		return nil, err
	}
	env.WaitUntil(func(context.Context) {
		<-ctx.Done()
		_ = conn.Close()
	})
	return conn, nil
}

// Connect connects to PostgreSQL through a Hyperdrive binding (env.HYPERDRIVE
// in JavaScript terms) and returns forge's pgx driver over that one
// connection. The caller closes it, in the request that opened it.
func Connect(ctx context.Context, binding js.Value) (*pgx.Conn, error) {
	cfg, err := Config(binding)
	if err != nil {
		return nil, err
	}
	c, err := jpgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("forge/hyperdrive: connecting to %s:%d as %s: %w", cfg.Host, cfg.Port, cfg.User, pgx.MapError(err))
	}
	return pgx.FromConn(c), nil
}

// Config returns pgx's configuration for a Hyperdrive binding: its
// connection string, with the binding's host, port, user, password and
// database, dialled through the runtime's sockets (edge/workers/sockets),
// TLS done by the runtime when the connection string asks for it (see the
// package documentation), and pgx.KeepOnCancel. Change it before
// pgx.ConnectConfig to tune pgx (such as its statement cache).
func Config(binding js.Value) (*jpgx.ConnConfig, error) {
	if binding.Type() != js.TypeObject {
		return nil, fmt.Errorf("forge/hyperdrive: the binding is a %s, not a Hyperdrive binding; declare it under [[hyperdrive]] in wrangler.toml", binding.Type())
	}
	cs := binding.Get("connectionString")
	if cs.Type() != js.TypeString {
		return nil, errors.New("forge/hyperdrive: the binding has no connectionString: it is not a Hyperdrive binding")
	}
	cfg, err := jpgx.ParseConfig(cs.String())
	if err != nil {
		return nil, fmt.Errorf("forge/hyperdrive: the binding's connection string: %w", err)
	}
	str := func(name string, dst *string) {
		if v := binding.Get(name); v.Type() == js.TypeString && v.String() != "" {
			*dst = v.String()
		}
	}
	str("host", &cfg.Host)
	str("user", &cfg.User)
	str("password", &cfg.Password)
	str("database", &cfg.Database)
	if p := binding.Get("port"); p.Type() == js.TypeNumber {
		n := p.Int()
		if n < 1 || n > 65535 {
			return nil, fmt.Errorf("forge/hyperdrive: the binding's port %d is not in 1-65535", n)
		}
		cfg.Port = uint16(n)
	}
	if cfg.Host == "" {
		return nil, errors.New("forge/hyperdrive: the binding has no host")
	}

	// TLS: done by the runtime, not by pgconn (whose crypto/tls would
	// need the socket's raw bytes and a certificate pool).
	wantTLS := cfg.TLSConfig != nil
	needTLS := wantTLS
	for _, f := range cfg.Fallbacks {
		if f.TLSConfig == nil {
			needTLS = false // sslmode prefer or allow: plain text will do
		}
	}
	cfg.TLSConfig = nil
	cfg.Fallbacks = nil
	cfg.LookupFunc = func(ctx context.Context, host string) ([]string, error) {
		return []string{host}, nil // the runtime resolves names itself
	}
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network != "tcp" {
			return nil, fmt.Errorf("forge/hyperdrive: cannot dial %s %s: a Worker has TCP sockets only", network, addr)
		}
		if !wantTLS {
			return sockets.Connect(ctx, addr, nil)
		}
		return dialTLS(ctx, addr, needTLS)
	}
	pgx.KeepOnCancel(&cfg.Config)
	return cfg, nil
}

// sslRequest is PostgreSQL's SSLRequest message: its length and the code
// 80877103.
var sslRequest = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), 80877103)

// dialTLS opens a socket that may be upgraded, asks the server for TLS
// with an SSLRequest, and upgrades with the runtime's startTls() when the
// server agrees ('S'). When it refuses ('N'), the plain socket is returned,
// or an error when TLS is required.
func dialTLS(ctx context.Context, addr string, required bool) (net.Conn, error) {
	c, err := sockets.Connect(ctx, addr, &sockets.Options{SecureTransport: "starttls"})
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	} else {
		c.SetDeadline(time.Now().Add(30 * time.Second))
	}
	answer := make([]byte, 1)
	_, err = c.Write(sslRequest)
	if err == nil {
		_, err = io.ReadFull(c, answer)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("forge/hyperdrive: asking %s for TLS: %w", addr, err)
	}
	c.SetDeadline(time.Time{})
	switch answer[0] {
	case 'S':
		return c.StartTLS()
	case 'N':
		if required {
			c.Close()
			return nil, fmt.Errorf("forge/hyperdrive: %s refused TLS, which the connection string requires (sslmode)", addr)
		}
		return c, nil
	}
	c.Close()
	return nil, fmt.Errorf("forge/hyperdrive: %s answered the SSLRequest with %s: not PostgreSQL", addr, strconv.Quote(string(answer)))
}
