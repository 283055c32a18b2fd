package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/forge-orm/forge/dialect/sqlsplit"
)

// Migration files.
//
// The standard layout, applied by forge migrate apply:
//
//	migrations/0001_init.up.sql
//	migrations/0001_init.down.sql
//
// The D1 layout (forge migrate new --dialect d1), applied by
// wrangler d1 migrations apply, which reads migrations/*.sql:
//
//	migrations/0001_init.sql
//	migrations/down/0001_init.sql
//
// A file holds SQL statements separated by semicolons (see sqlsplit.Split). Its
// leading comment lines may hold directives:
//
//	-- forge:foreign-keys-off   (SQLite) run with foreign key enforcement off,
//	                            checking every foreign key before the commit:
//	                            needed to rebuild or drop a referenced table
//	-- forge:irreversible       (down files) the change cannot be reverted;
//	                            forge migrate down refuses it

const (
	directiveFKOff        = "-- forge:foreign-keys-off"
	directiveIrreversible = "-- forge:irreversible"
)

type layout int

const (
	layoutNone     layout = iota // no migration files yet
	layoutStandard               // NNNN_name.up.sql + NNNN_name.down.sql
	layoutD1                     // NNNN_name.sql + down/NNNN_name.sql
)

var (
	standardName = regexp.MustCompile(`^(\d+)_(.+)\.(up|down)\.sql$`)
	d1Name       = regexp.MustCompile(`^(\d+)_(.+)\.sql$`)
)

// migFile is one migration: its up file and, when there is one, its down
// file.
type migFile struct {
	version int
	name    string // "0001_init": the record in forge_migrations
	up      string // path of the up file
	down    string // path of the down file, or ""
}

// migDir is the content of a migrations directory.
type migDir struct {
	dir    string
	layout layout
	files  []*migFile // by version, then name
}

// readMigrations lists the migrations in dir. A missing directory is an
// empty one.
func readMigrations(dir string) (*migDir, error) {
	md := &migDir{dir: dir}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return md, nil
	}
	if err != nil {
		return nil, err
	}
	byName := map[string]*migFile{}
	get := func(version int, name string) *migFile {
		m := byName[name]
		if m == nil {
			m = &migFile{version: version, name: name}
			byName[name] = m
		}
		return m
	}
	var std, d1 []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		n := e.Name()
		if m := standardName.FindStringSubmatch(n); m != nil {
			std = append(std, n)
			v, err := strconv.Atoi(m[1])
			if err != nil {
				return nil, fmt.Errorf("%s: the number is too large", filepath.Join(dir, n))
			}
			f := get(v, m[1]+"_"+m[2])
			if m[3] == "up" {
				f.up = filepath.Join(dir, n)
			} else {
				f.down = filepath.Join(dir, n)
			}
		} else if d1Name.MatchString(n) {
			d1 = append(d1, n)
		}
	}
	switch {
	case len(std) > 0 && len(d1) > 0:
		return nil, fmt.Errorf("%s mixes the standard layout (%s) with the D1 layout (%s); keep one layout per directory", dir, std[0], d1[0])
	case len(std) > 0:
		md.layout = layoutStandard
	case len(d1) > 0:
		md.layout = layoutD1
		for _, n := range d1 {
			m := d1Name.FindStringSubmatch(n)
			v, err := strconv.Atoi(m[1])
			if err != nil {
				return nil, fmt.Errorf("%s: the number is too large", filepath.Join(dir, n))
			}
			f := get(v, m[1]+"_"+m[2])
			f.up = filepath.Join(dir, n)
			down := filepath.Join(dir, "down", n)
			if _, err := os.Stat(down); err == nil {
				f.down = down
			}
		}
	}
	for _, f := range byName {
		if f.up == "" {
			return nil, fmt.Errorf("%s has no up migration (%s.up.sql); add it or remove the down file", f.down, f.name)
		}
		md.files = append(md.files, f)
	}
	sort.Slice(md.files, func(i, j int) bool {
		a, b := md.files[i], md.files[j]
		if a.version != b.version {
			return a.version < b.version
		}
		return a.name < b.name
	})
	return md, nil
}

// next is the next migration number.
func (md *migDir) next() int {
	n := 0
	for _, f := range md.files {
		n = max(n, f.version)
	}
	return n + 1
}

// script is a parsed migration file.
type script struct {
	path     string
	checksum string // sha256 of the file, hex
	stmts    []string
	fkOff    bool
	irrev    bool
}

// readScript reads and splits a migration file.
func readScript(path string) (*script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	s := &script{path: path, checksum: hex.EncodeToString(sum[:])}
	s.stmts, err = sqlsplit.Split(string(data), sqlsplit.Portable)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, st := range s.stmts {
		if transactionControl(st) {
			return nil, fmt.Errorf("%s: statement %d (%s) controls the transaction; forge runs each migration file in one transaction of its own, so remove BEGIN/COMMIT from the file", path, i+1, firstLine(st))
		}
	}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "--") {
			break
		}
		switch l {
		case directiveFKOff:
			s.fkOff = true
		case directiveIrreversible:
			s.irrev = true
		}
	}
	return s, nil
}

// checksumOf returns the sha256 of a file, hex.
func checksumOf(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// migrationName turns what the user typed into the name part of a file
// name: lower case, runs of anything but letters and digits as one "_".
func migrationName(s string) (string, error) {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
			continue
		}
		under = true
	}
	if b.Len() == 0 {
		return "", usagef("migrate new: the name %q has no letters or digits; name the change, such as add_posts", s)
	}
	return b.String(), nil
}
