package gateway

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Main runs the gateway as a command (forge gateway, cmd/forge-gateway):
// it parses args, opens the databases, serves until ctx is cancelled or
// the process gets SIGTERM or SIGINT, then shuts down gracefully (new
// connections are refused, requests in flight finish, open Hrana streams
// are rolled back) and returns the exit code: 0 after a clean shutdown, 1
// when serving failed, 2 for bad flags.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("forge gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dbs, tokenFlags listFlag
	fs.Var(&dbs, "db", "the database: postgres://user:pass@host/db (serves Neon's /sql), mysql://user:pass@host:port/db (serves PlanetScale's /psdb.v1alpha1.Database/*) or sqlite:PATH (serves Hrana's /v2/pipeline); repeat it to serve several")
	listen := fs.String("listen", "127.0.0.1:8080", "the address to listen on (port 0 picks a free one)")
	fs.Var(&tokenFlags, "token", "a bearer token, NAME:SECRET:ROLE with ROLE read or write (repeatable)")
	tokensFile := fs.String("tokens", "", "a file of tokens, one NAME:SECRET:ROLE a line (SECRET may be sha256:HEX)")
	statementsFile := fs.String("statements", "", "an allow-list of named statements (JSON object, or SQL with \"-- name: NAME\" lines); clients send \"@NAME\" and raw SQL is refused")
	maxBody := sizeFlag(defaultMaxBytes)
	fs.Var(&maxBody, "max-body", "the largest request body (413 beyond), bytes or with a unit: 512KiB, 10MiB")
	maxResponse := sizeFlag(10 << 20)
	fs.Var(&maxResponse, "max-response", "the largest response body")
	maxStatements := fs.Int("max-statements", 10000, "the most statements in one request")
	stmtTimeout := fs.Duration("statement-timeout", 30*time.Second, "the longest a statement may run")
	maxRows := fs.Int("max-rows", 100000, "the most rows one statement may return")
	maxConcurrent := fs.Int("max-concurrent", 32, "the most requests of one token in flight at once (429 beyond)")
	streamIdle := fs.Duration("stream-idle", 10*time.Second, "how long an idle Hrana stream lives (its transaction is then rolled back)")
	maxStreams := fs.Int("max-streams", 256, "the most Hrana streams open at once")
	maxTransaction := fs.Duration("max-transaction", time.Minute, "the longest a Hrana stream may stay in a transaction (it is then closed and rolled back)")
	hranaMemory := sizeFlag(256 << 20)
	fs.Var(&hranaMemory, "hrana-memory", "the memory Hrana requests may hold at once (decoded bodies and responses), a token half of it")
	maxStreamsPerToken := fs.Int("max-streams-per-token", 0, "the most Hrana streams one token holds open (default a quarter of --max-streams)")
	poolSize := fs.Int("pg-pool-size", 16, "the most PostgreSQL connections (of each pool: --db's and --read-dsn's)")
	readDSN := fs.String("read-dsn", "", "postgres://... or mysql://... for read tokens: a role or user that can only read (checked at start; the gateway refuses one that can write)")
	myPoolSize := fs.Int("mysql-pool-size", 16, "the most MySQL connections (of each pool: --db's and --read-dsn's)")
	myPerToken := fs.Int("mysql-per-token", 0, "the most MySQL connections one token holds at once, open PlanetScale transactions included, below --mysql-pool-size (default a quarter of the pool, at least 1)")
	allowSuperuser := fs.Bool("dangerously-allow-superuser", false, "serve even when the --db role is a superuser or can run programs, read or write server files or signal other sessions: then ANY token can do those things")
	perToken := fs.Int("pg-per-token", 0, "the most PostgreSQL connections one token holds at once, below --pg-pool-size (default a quarter of the pool, at least 1)")
	acquireTimeout := fs.Duration("acquire-timeout", 5*time.Second, "the longest a request waits for its token's share of the pool, a pooled connection or room in --max-inflight (429 or 503 beyond)")
	maxParams := fs.Int("max-params", defaultMaxParams, "the most parameters (and array parameters' items) in one Neon request, counted before decoding (400 beyond)")
	maxInflight := sizeFlag(0)
	fs.Var(&maxInflight, "max-inflight", "the most request body bytes being served at once, over all tokens (default 4 × --max-body)")
	baseURL := fs.String("base-url", "", "the URL Hrana responses give as base_url (default null)")
	readHeaderTimeout := fs.Duration("read-header-timeout", 5*time.Second, "the longest a client may take to send a request's headers")
	readTimeout := fs.Duration("read-timeout", 30*time.Second, "the longest a client may take to send a whole request")
	writeTimeout := fs.Duration("write-timeout", 5*time.Minute, "the longest from a request's headers to the end of its response")
	idleTimeout := fs.Duration("idle-timeout", 60*time.Second, "how long an idle keep-alive connection stays open")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long a shutdown waits for requests in flight")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintln(stderr, "forge gateway: "+msg)
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments: " + strings.Join(fs.Args(), " "))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usage("--log-level: " + err.Error())
	}
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, hopts)
	case "json":
		handler = slog.NewJSONHandler(stderr, hopts)
	default:
		return usage("--log-format must be text or json")
	}
	log := slog.New(handler)

	cfg := Config{
		MaxBodyBytes: int64(maxBody), MaxResponseBytes: int(maxResponse), MaxStatements: *maxStatements,
		StatementTimeout: *stmtTimeout, MaxRows: *maxRows, MaxConcurrent: *maxConcurrent,
		StreamIdle: *streamIdle, MaxStreams: *maxStreams, MaxStreamsPerToken: *maxStreamsPerToken, HranaMemory: int64(hranaMemory), MaxTransaction: *maxTransaction, BaseURL: *baseURL, Logger: log,
		MaxPostgresPerToken: *perToken, MaxMySQLPerToken: *myPerToken, AcquireTimeout: *acquireTimeout, MaxParams: *maxParams, MaxInFlightBytes: int64(maxInflight),
	}
	for _, t := range tokenFlags {
		tok, err := ParseToken(t)
		if err != nil {
			return usage("--token: " + err.Error())
		}
		cfg.Tokens = append(cfg.Tokens, tok)
	}
	if *tokensFile != "" {
		toks, err := ReadTokensFile(*tokensFile)
		if err != nil {
			return usage("--tokens: " + err.Error())
		}
		cfg.Tokens = append(cfg.Tokens, toks...)
	}
	if len(cfg.Tokens) == 0 {
		return usage("no token: give --token NAME:SECRET:ROLE or --tokens FILE")
	}
	if *statementsFile != "" {
		st, err := ReadStatementsFile(*statementsFile)
		if err != nil {
			return usage("--statements: " + err.Error())
		}
		cfg.Statements = st
	}
	if len(dbs) == 0 {
		return usage("no database: give --db postgres://..., --db mysql://... or --db sqlite:PATH")
	}
	for _, v := range []struct {
		name string
		ok   bool
	}{{"--max-statements", *maxStatements > 0}, {"--max-rows", *maxRows > 0}, {"--max-concurrent", *maxConcurrent > 0},
		{"--max-streams", *maxStreams > 0}, {"--pg-pool-size", *poolSize > 0 && *poolSize <= 10000}, {"--statement-timeout", *stmtTimeout > 0},
		{"--stream-idle", *streamIdle > 0}, {"--max-streams-per-token", *maxStreamsPerToken >= 0}, {"--hrana-memory", hranaMemory > 0}, {"--max-transaction", *maxTransaction > 0}, {"--max-body", maxBody > 0}, {"--max-response", maxResponse > 0},
		{"--pg-per-token", *perToken >= 0}, {"--mysql-pool-size", *myPoolSize > 0 && *myPoolSize <= 10000}, {"--mysql-per-token", *myPerToken >= 0}, {"--acquire-timeout", *acquireTimeout > 0}, {"--max-params", *maxParams > 0}, {"--max-inflight", maxInflight >= 0}} {
		if !v.ok {
			return usage(v.name + " must be positive")
		}
	}

	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()
	for _, d := range dbs {
		kind, target, err := ParseDB(d)
		if err != nil {
			return usage(err.Error())
		}
		switch kind {
		case "postgres":
			if cfg.Postgres != nil {
				return usage("--db: only one PostgreSQL database")
			}
			pool, err := OpenPostgres(ctx, target, PostgresOptions{MaxConns: int32(*poolSize), StatementTimeout: *stmtTimeout,
				DangerouslyAllowSuperuser: *allowSuperuser})
			if err != nil {
				return usage("--db " + redact(target) + ": " + err.Error())
			}
			closers = append(closers, pool.Close)
			cfg.Postgres = pool
			if err := pingPostgres(ctx, pool, log); err != nil {
				fmt.Fprintln(stderr, err.Error())
				return 1
			}
			if *allowSuperuser {
				log.Warn("--dangerously-allow-superuser: the role's checks are off; if it is a superuser, any token can run programs on the database server")
			}
			if *readDSN == "" {
				log.Info("no --read-dsn: read tokens run in READ ONLY transactions under the --db role; a read-only role (--read-dsn) makes the guarantee structural")
			}
		case "mysql":
			if cfg.MySQL != nil {
				return usage("--db: only one MySQL database")
			}
			db, err := OpenMySQL(ctx, target, MySQLOptions{MaxConns: *myPoolSize, StatementTimeout: *stmtTimeout,
				DangerouslyAllowSuperuser: *allowSuperuser})
			if err != nil {
				fmt.Fprintln(stderr, "forge gateway: --db "+redact(target)+": "+err.Error())
				return 1
			}
			closers = append(closers, func() { _ = db.Close() })
			cfg.MySQL = db
		case "sqlite":
			if cfg.SQLite != nil {
				return usage("--db: only one SQLite database")
			}
			rw, ro, err := OpenSQLite(ctx, target)
			if err != nil {
				fmt.Fprintln(stderr, "forge gateway: "+err.Error())
				return 1
			}
			closers = append(closers, func() { _ = rw.Close() })
			if ro != nil {
				closers = append(closers, func() { _ = ro.Close() })
			} else {
				log.Warn("an in-memory SQLite database has no read-only connection: read tokens are refused on Hrana")
			}
			cfg.SQLite, cfg.SQLiteReadOnly = rw, ro
		}
	}
	if strings.HasPrefix(*readDSN, "mysql://") {
		if cfg.MySQL == nil {
			return usage("--read-dsn mysql://... needs a MySQL --db")
		}
		ro, err := OpenMySQL(ctx, *readDSN, MySQLOptions{MaxConns: *myPoolSize, StatementTimeout: *stmtTimeout, ReadOnly: true})
		if err != nil {
			fmt.Fprintln(stderr, "forge gateway: --read-dsn "+redact(*readDSN)+": "+err.Error())
			return 1
		}
		closers = append(closers, func() { _ = ro.Close() })
		cfg.MySQLReadOnly = ro
	} else if *readDSN != "" {
		if cfg.Postgres == nil {
			return usage("--read-dsn needs a PostgreSQL --db")
		}
		if kind, _, err := ParseDB(*readDSN); err != nil || kind != "postgres" {
			return usage("--read-dsn: want postgres://user@host/db (a role that can only read)")
		}
		ro, err := OpenPostgres(ctx, *readDSN, PostgresOptions{MaxConns: int32(*poolSize), StatementTimeout: *stmtTimeout, ReadOnly: true})
		if err != nil {
			return usage("--read-dsn " + redact(*readDSN) + ": " + err.Error())
		}
		closers = append(closers, ro.Close)
		if err := pingPostgres(ctx, ro, log); err != nil {
			fmt.Fprintln(stderr, err.Error())
			return 1
		}
		cfg.PostgresReadOnly = ro
	}
	srv, err := NewServer(cfg)
	if err != nil {
		return usage(err.Error())
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "forge gateway: "+err.Error())
		return 1
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: *readHeaderTimeout,
		ReadTimeout:       *readTimeout,
		WriteTimeout:      *writeTimeout,
		IdleTimeout:       *idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := []string{}
	if cfg.Postgres != nil {
		served = append(served, "neon=/sql")
	}
	if cfg.SQLite != nil {
		served = append(served, "hrana=/v2/pipeline,/v3/pipeline")
	}
	if cfg.MySQL != nil {
		served = append(served, "planetscale=/psdb.v1alpha1.Database/*")
	}
	fmt.Fprintf(stdout, "forge gateway listening on http://%s\n", ln.Addr())
	log.Info("listening", "addr", ln.Addr().String(), "serves", strings.Join(served, " "), "tokens", len(cfg.Tokens),
		"allow_list", cfg.Statements != nil, "statement_timeout", cfg.StatementTimeout.String())

	sigCtx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		log.Error("serving failed", "error", err)
		return 1
	case <-sigCtx.Done():
	}
	log.Info("shutting down: refusing new connections, finishing requests in flight", "timeout", shutdownTimeout.String())
	srv.Drain()
	shCtx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	code := 0
	if err := hs.Shutdown(shCtx); err != nil {
		log.Warn("requests were still running when the shutdown timeout ended; closing them", "error", err)
		_ = hs.Close()
		code = 1
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serving failed", "error", err)
		code = 1
	}
	_ = srv.Close()
	log.Info("stopped")
	return code
}

// pingPostgres connects once: a role the gateway refuses (a *RoleError)
// is returned, for Main to stop with; a database that does not answer is
// logged, and the gateway starts anyway and answers 503 until it does
// (every new connection's role is checked then).
func pingPostgres(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		var re *RoleError
		if errors.As(err, &re) {
			return re
		}
		log.Warn("PostgreSQL does not answer yet; requests get 503 until it does", "error", err)
	}
	return nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// sizeFlag is a byte count: 1048576, 512KiB, 1MiB, 1MB, 64k.
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func parseSize(v string) (int64, error) {
	t := strings.TrimSpace(v)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: want a number of bytes, such as 1048576, 512KiB or 1MiB", v)
	}
	mult := int64(1)
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b":
	case "k", "kb", "kib":
		mult = 1 << 10
	case "m", "mb", "mib":
		mult = 1 << 20
	case "g", "gb", "gib":
		mult = 1 << 30
	default:
		return 0, fmt.Errorf("size %q: unknown unit (use KiB, MiB or GiB)", v)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", v)
	}
	return n * mult, nil
}
