package gateway

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// Role is what a token may do.
type Role int

// The roles. A read token's statements run where the database itself
// refuses writes: in a READ ONLY transaction on PostgreSQL (under the
// --read-dsn role, which cannot write, when one is configured), on a
// connection opened read-only (mode=ro) on SQLite.
const (
	RoleRead Role = iota + 1
	RoleWrite
)

func (r Role) String() string {
	switch r {
	case RoleRead:
		return "read"
	case RoleWrite:
		return "write"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// ParseRole reads "read" or "write".
func ParseRole(s string) (Role, error) {
	switch s {
	case "read":
		return RoleRead, nil
	case "write":
		return RoleWrite, nil
	}
	return 0, fmt.Errorf("unknown role %q (want read or write)", s)
}

// Token is one bearer token the gateway accepts.
type Token struct {
	// Name identifies the token in logs and metrics (never the secret).
	Name string
	// Secret is what clients send as "Authorization: Bearer <secret>".
	// A secret written "sha256:<64 hex digits>" is the SHA-256 of the
	// secret instead, so that a tokens file need not hold the secret.
	Secret string
	Role   Role
}

// ParseToken reads NAME:SECRET:ROLE (the secret may itself hold colons).
func ParseToken(s string) (Token, error) {
	i, j := strings.IndexByte(s, ':'), strings.LastIndexByte(s, ':')
	if i <= 0 || j <= i {
		return Token{}, errors.New("want NAME:SECRET:ROLE")
	}
	role, err := ParseRole(s[j+1:])
	if err != nil {
		return Token{}, err
	}
	t := Token{Name: s[:i], Secret: s[i+1 : j], Role: role}
	if t.Secret == "" {
		return Token{}, errors.New("empty secret")
	}
	for _, c := range t.Name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return Token{}, fmt.Errorf("token name %q: use letters, digits, '_', '-' and '.'", t.Name)
		}
	}
	return t, nil
}

// ReadTokens reads a tokens file: one NAME:SECRET:ROLE a line; blank lines
// and lines starting with '#' are skipped.
func ReadTokens(r io.Reader) ([]Token, error) {
	var out []Token
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		t, err := ParseToken(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, t)
	}
	return out, sc.Err()
}

// ReadTokensFile reads a tokens file (see ReadTokens).
func ReadTokensFile(path string) ([]Token, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	toks, err := ReadTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return toks, nil
}

// principal is an accepted token, with its concurrency slots.
type principal struct {
	name  string
	role  Role
	hash  [sha256.Size]byte
	slots chan struct{} // one per request in flight
	pg    chan struct{} // one per PostgreSQL connection held
	my    chan struct{} // one per MySQL connection held (a PlanetScale transaction's too)
}

// tokenSet checks bearer tokens in constant time.
type tokenSet struct {
	list []*principal
}

func newTokenSet(toks []Token, maxConcurrent int) (*tokenSet, error) {
	ts := &tokenSet{}
	names := map[string]bool{}
	for _, t := range toks {
		if t.Role != RoleRead && t.Role != RoleWrite {
			return nil, fmt.Errorf("token %q: no role", t.Name)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("token %q is defined twice", t.Name)
		}
		names[t.Name] = true
		p := &principal{name: t.Name, role: t.Role, slots: make(chan struct{}, maxConcurrent),
			pg: make(chan struct{}, 1), my: make(chan struct{}, 1)}
		if h, ok := strings.CutPrefix(t.Secret, "sha256:"); ok {
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("token %q: sha256: wants 64 hex digits", t.Name)
			}
			copy(p.hash[:], b)
		} else {
			p.hash = sha256.Sum256([]byte(t.Secret))
		}
		for _, q := range ts.list {
			if q.hash == p.hash {
				return nil, fmt.Errorf("tokens %q and %q have the same secret", q.name, p.name)
			}
		}
		ts.list = append(ts.list, p)
	}
	return ts, nil
}

// limitPostgres sets how many PostgreSQL connections each token may hold
// at once.
func (ts *tokenSet) limitPostgres(n int) {
	for _, p := range ts.list {
		p.pg = make(chan struct{}, n)
	}
}

// limitMySQL sets how many MySQL connections each token may hold at once.
func (ts *tokenSet) limitMySQL(n int) {
	for _, p := range ts.list {
		p.my = make(chan struct{}, n)
	}
}

// check returns the principal whose secret the request's bearer token is,
// or, with HTTP Basic authentication (what PlanetScale's clients send),
// whose name and secret are the user name and password.
// It hashes the presented token and compares the digest with every
// token's, in constant time and without stopping at a match, so the time
// taken says nothing about which secret, or how much of one, matched.
func (ts *tokenSet) check(r *http.Request) *principal {
	h := r.Header.Get("Authorization")
	var secret, user string
	basic := false
	switch {
	case len(h) >= 7 && strings.EqualFold(h[:7], "bearer "):
		secret = strings.TrimSpace(h[7:])
	case len(h) >= 6 && strings.EqualFold(h[:6], "basic "):
		u, pw, ok := r.BasicAuth()
		if !ok {
			return nil
		}
		secret, user, basic = pw, u, true
	default:
		return nil
	}
	sum := sha256.Sum256([]byte(secret))
	var found *principal
	for _, p := range ts.list {
		if subtle.ConstantTimeCompare(sum[:], p.hash[:]) == 1 {
			found = p
		}
	}
	if basic && found != nil && found.name != user {
		return nil
	}
	return found
}
