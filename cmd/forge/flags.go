package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/forge-orm/forge/migrate"
)

// newFlags returns a flag set for c that reports errors to the caller.
func newFlags(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses flags and positional arguments in any order
// (forge migrate new NAME --schema P and forge migrate new --schema P NAME
// alike); "--" ends the flags.
func parseArgs(e *env, c *command, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, c.usage)
			return nil, helpShown{}
		}
		if err != nil {
			return nil, usagef("%s: %v\nRun 'forge %s --help' for usage.", c.name, err, c.name)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// noArgs refuses positional arguments.
func noArgs(c *command, pos []string) error {
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q\nRun 'forge %s --help' for usage.", c.name, pos[0], c.name)
	}
	return nil
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", os.Getenv("FORGE_DATABASE_URL"), "database URL (default: $FORGE_DATABASE_URL)")
}

func schemaFlag(fs *flag.FlagSet) *string {
	return fs.String("schema", "", "Go package exporting the schema: DIR or DIR:Var")
}

// required reports a missing flag.
func required(c *command, name, value string) error {
	if strings.TrimSpace(value) == "" {
		hint := ""
		if name == "db" {
			hint = " (or set FORGE_DATABASE_URL)"
		}
		return usagef("%s: --%s is required%s\nRun 'forge %s --help' for usage.", c.name, name, hint, c.name)
	}
	return nil
}

// lockFlags are the migration lock's flags.
type lockFlags struct {
	ttl, wait time.Duration
}

func addLockFlags(fs *flag.FlagSet) *lockFlags {
	l := &lockFlags{}
	fs.DurationVar(&l.ttl, "lock-ttl", 30*time.Second, "how long the lock outlives a migrator that dies without releasing it")
	fs.DurationVar(&l.wait, "lock-wait", 2*time.Minute, "how long to wait for a lock another migrator holds (0: do not wait)")
	return l
}

func (l *lockFlags) options(c *command) (migrate.LockOptions, error) {
	if l.ttl < 300*time.Millisecond {
		return migrate.LockOptions{}, usagef("%s: --lock-ttl %s is too short (at least 300ms; the holder renews the lock every third of it)", c.name, l.ttl)
	}
	if l.wait < 0 {
		return migrate.LockOptions{}, usagef("%s: --lock-wait must not be negative", c.name)
	}
	o := migrate.LockOptions{TTL: l.ttl, Wait: l.wait, Holder: holderName()}
	if l.wait == 0 {
		o.Wait = -1 // migrate: negative means do not wait
	}
	return o, nil
}

// holderName names this process in the lock row, for whoever finds it held.
func holderName() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("forge@%s:%d:%x", host, os.Getpid(), b)
}

// lockedError: another migrator held the lock for all of --lock-wait.
type lockedError struct {
	wait    time.Duration
	holder  string    // "" when unknown
	expires time.Time // the holder's lease, unless it renews it
}

func (e *lockedError) Error() string {
	who := "another migrator holds the lock"
	if e.holder != "" {
		who = fmt.Sprintf("another migrator holds the lock: %s, its lease running until %s unless it renews it", e.holder, e.expires.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s (waited %s); nothing was done.\n"+
		"Retry when it has finished, or wait longer with --lock-wait. A lock left by a migrator that was killed expires after that migrator's --lock-ttl.", who, e.wait)
}

// lockErr turns migrate.ErrLocked into a *lockedError.
func lockErr(err error, o migrate.LockOptions) error {
	if errors.Is(err, migrate.ErrLocked) {
		w := o.Wait
		if w < 0 {
			w = 0
		}
		le := &lockedError{wait: w}
		var me *migrate.LockedError
		if errors.As(err, &me) {
			le.holder, le.expires = me.Holder, me.Expires
		}
		return le
	}
	return err
}

// destructiveError: a change that can lose data was refused.
type destructiveError struct {
	steps []migrate.Change
	how   string
}

func (e *destructiveError) Error() string {
	var b strings.Builder
	b.WriteString("refused: these changes can lose data:")
	for _, c := range e.steps {
		b.WriteString("\n  ! ")
		b.WriteString(c.String())
	}
	b.WriteString("\nNothing was changed. ")
	b.WriteString(e.how)
	return b.String()
}
