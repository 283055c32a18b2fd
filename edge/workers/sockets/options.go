package sockets

import (
	"fmt"
	"net"
	"strconv"
)

// Options are connect()'s options.
type Options struct {
	// SecureTransport is "off" (plain TCP, the default when empty), "on"
	// (TLS from the start) or "starttls" (plain TCP that StartTLS may
	// upgrade later).
	SecureTransport string
	// AllowHalfOpen keeps the writable side open after the peer ends its
	// side (the runtime closes both by default).
	AllowHalfOpen bool
}

func (o *Options) check() error {
	if o == nil {
		return nil
	}
	switch o.SecureTransport {
	case "", "off", "on", "starttls":
		return nil
	}
	return fmt.Errorf("forge/sockets: SecureTransport %q: want \"off\", \"on\" or \"starttls\"", o.SecureTransport)
}

// splitAddr splits "host:port" as net.SplitHostPort does, and checks the
// port.
func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("forge/sockets: address %q: %w (want host:port)", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("forge/sockets: address %q: the port is not a number in 1-65535", addr)
	}
	if host == "" {
		return "", 0, fmt.Errorf("forge/sockets: address %q has no host", addr)
	}
	return host, port, nil
}

// Addr is the address of a socket's end: "host:port" on network "tcp".
type Addr string

// Network returns "tcp".
func (Addr) Network() string { return "tcp" }

// String returns the address.
func (a Addr) String() string { return string(a) }
