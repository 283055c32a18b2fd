// Command forge is forge's command line: it pushes a schema declared in Go
// to a database, reports drift, writes and applies migration files, and
// pulls Go models out of an existing database.
//
//	forge push    --schema ./models --db sqlite:app.db
//	forge diff    --schema ./models --db postgres://localhost/app --exit-code
//	forge migrate new add_posts --schema ./models --db sqlite:dev.db
//	forge migrate apply --db postgres://localhost/app
//	forge pull    --db postgres://localhost/app --out models/models.go
//
// Run `forge help` for the commands and the exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes scripts can rely on.
const (
	exitOK          = 0
	exitError       = 1
	exitDrift       = 2  // forge diff --exit-code found drift
	exitLocked      = 3  // another migrator held the lock for all of --lock-wait
	exitDestructive = 4  // a change that can lose data was refused
	exitUsage       = 64 // bad command line (EX_USAGE)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command reads and writes besides its flags.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
}

func (e *env) printf(format string, args ...any) { fmt.Fprintf(e.stdout, format, args...) }
func (e *env) warnf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "forge: warning: "+format+"\n", args...)
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string // the synopsis and description, with examples
	run     func(e *env, args []string) error
}

func commands() []*command {
	return []*command{pushCmd, diffCmd, migrateCmd, pullCmd, doctorCmd, gatewayCmd, versionCmd}
}

// run runs forge with args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, mainHelp)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return helpFor(e, args[1:])
		}
		fmt.Fprint(stdout, mainHelp)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return exitCode(e, c.run(e, args[1:]))
		}
	}
	fmt.Fprintf(stderr, "forge: unknown command %q\nRun 'forge help' for the commands.\n", name)
	return exitUsage
}

func helpFor(e *env, args []string) int {
	if args[0] == "migrate" && len(args) > 1 {
		for _, c := range migrateCommands() {
			if c.name == "migrate "+args[1] {
				fmt.Fprint(e.stdout, c.usage)
				return exitOK
			}
		}
	}
	for _, c := range commands() {
		if c.name == args[0] {
			fmt.Fprint(e.stdout, c.usage)
			return exitOK
		}
	}
	fmt.Fprintf(e.stderr, "forge: no help for %q\nRun 'forge help' for the commands.\n", args[0])
	return exitUsage
}

// Errors that choose an exit code.
type (
	// usageError is a bad command line.
	usageError struct{ msg string }
	// driftError reports drift under diff --exit-code.
	driftError struct{}
	// helpShown means --help was given and the help printed.
	helpShown struct{}
)

func (e *usageError) Error() string { return e.msg }
func (driftError) Error() string    { return "drift found" }
func (helpShown) Error() string     { return "help shown" }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode prints err (if any) and maps it to an exit code.
func exitCode(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	var le *lockedError
	var de *destructiveError
	var xe *commandExit
	switch {
	case errors.As(err, &xe):
		return xe.code
	case errors.As(err, new(*findingsError)):
		return exitError // the findings are printed
	case errors.As(err, &helpShown{}):
		return exitOK
	case errors.As(err, &driftError{}):
		return exitDrift
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "forge: %s\n", ue.msg)
		return exitUsage
	case errors.As(err, &le):
		fmt.Fprintf(e.stderr, "forge: %v\n", le)
		return exitLocked
	case errors.As(err, &de):
		fmt.Fprintf(e.stderr, "forge: %v\n", de)
		return exitDestructive
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stderr, "forge: interrupted; nothing further was done (each step that ran was atomic)")
		return exitError
	}
	fmt.Fprintf(e.stderr, "forge: %v\n", err)
	return exitError
}

const mainHelp = `forge: schema migrations for forge models.

Usage:
  forge <command> [arguments]

Commands:
  push             apply the schema declared in Go to a database (under the migration lock)
  diff             show the drift between the schema and a database
  migrate new      write a numbered migration (up and down) from that drift
  migrate apply    apply pending migration files, in order, each atomically
  migrate down     revert the last applied migration
  migrate status   list migration files: applied, pending, modified
  pull             write Go models for an existing database
  doctor           check a setup (database, drift, edge build, wrangler.toml, gateway role)
  gateway          serve a database over HTTP to edge clients (Neon, libSQL protocols)
  version          print forge's version
  help [command]   show a command's help (also: forge <command> --help)

The schema (--schema DIR[:Var]) is a Go package of your module that exports a
*forge.Schema variable, named Schema unless :Var names another. forge loads it
by running a small generated program with 'go run', so the go command must be
on PATH.

Databases (--db, or the FORGE_DATABASE_URL environment variable):
  sqlite:PATH, sqlite://PATH, file:PATH      a SQLite file
  postgres://user:pass@host:5432/db?sslmode=disable&search_path=app
  postgresql://...                           the same

Exit codes:
  0   success (also: diff found no drift; push found nothing to do; doctor found no error)
  1   error (the message says what failed and what to do; doctor: a finding is an error)
  2   drift found (forge diff --exit-code)
  3   another migrator held the migration lock for all of --lock-wait
  4   a change that can lose data was refused (rerun with --accept-data-loss)
  64  bad command line

Example:
  forge push --schema ./models --db sqlite:app.db --dry-run
`
