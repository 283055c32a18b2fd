// Package otel traces forge's statements with OpenTelemetry: an observer
// (forge.WithObserver) that emits one client span per statement and per
// transaction, with the stable database semantic conventions, and records
// the db.client.operation.duration histogram.
//
//	obs, err := otel.New(otel.Namespace("shop"), otel.Server("db.internal", 5432))
//	db, err := forge.Open(schema, conn, forge.WithObserver(obs))
//
// Spans are children of the span in the context given to forge's methods.
// A span is named by its query summary ("SELECT users") and carries
// db.system.name, db.namespace, db.collection.name, db.operation.name,
// db.query.text (forge binds every value as a parameter, so the text
// never holds one), db.query.summary, db.operation.batch.size (a batch
// sent in one round trip), server.address and server.port, error.type on
// failure, and forge.operation (findMany, create...). A transaction is
// one span from BEGIN to COMMIT or ROLLBACK, the parent of the spans of
// its statements. When neither a tracer nor a meter records anything, an
// event costs a few hundred nanoseconds (BenchmarkNoopObserver).
package otel

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/driver"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/forge-orm/forge/otel"

// Observer is a forge.Observer that traces statements and transactions.
type Observer struct {
	tracer    trace.Tracer
	duration  metric.Float64Histogram
	namespace string
	host      string
	port      int
	system    string // overrides the name from the dialect
	tracing   bool   // false for a no-op tracer provider: no spans are started
	tp        trace.TracerProvider
	mp        metric.MeterProvider
}

// Option configures New.
type Option func(*Observer)

// WithTracerProvider sets the tracer provider (default: the global one).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(o *Observer) { o.tp = tp } }

// WithMeterProvider sets the meter provider (default: the global one).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(o *Observer) { o.mp = mp } }

// Namespace sets db.namespace: the database name (PostgreSQL: the
// database, with the schema as "db|schema" if not public; SQLite: the
// file's name or "main").
func Namespace(name string) Option { return func(o *Observer) { o.namespace = name } }

// Server sets server.address and, when not the system's default, server.port.
func Server(host string, port int) Option {
	return func(o *Observer) { o.host, o.port = host, port }
}

// System sets db.system.name, for a driver whose dialect's name does not
// say it (a MySQL-compatible server that is MariaDB, say).
func System(name string) Option { return func(o *Observer) { o.system = name } }

// New returns an observer.
func New(opts ...Option) (*Observer, error) {
	o := &Observer{}
	for _, opt := range opts {
		opt(o)
	}
	if o.tp == nil {
		o.tp = otel.GetTracerProvider()
	}
	if o.mp == nil {
		o.mp = otel.GetMeterProvider()
	}
	_, isNoop := o.tp.(noop.TracerProvider)
	o.tracing = !isNoop
	o.tracer = o.tp.Tracer(ScopeName)
	var err error
	o.duration, err = o.mp.Meter(ScopeName).Float64Histogram("db.client.operation.duration",
		metric.WithDescription("Duration of database client operations."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10))
	if err != nil {
		return nil, fmt.Errorf("forge/otel: the db.client.operation.duration histogram: %w", err)
	}
	return o, nil
}

// systemName maps a dialect's name to db.system.name.
func (o *Observer) systemName(e *forge.QueryEvent) string {
	if o.system != "" {
		return o.system
	}
	switch e.System {
	case "postgres":
		return "postgresql"
	case "":
		return "other_sql"
	}
	return e.System // sqlite, mysql
}

// verb returns the statement's first keyword, upper case: db.operation.name.
func verb(sql string) string {
	sql = strings.TrimLeft(sql, " \t\r\n(")
	end := strings.IndexAny(sql, " \t\r\n;(")
	if end < 0 {
		end = len(sql)
	}
	w := sql[:end]
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(w)
		}
	}
	return w
}

// operation returns db.operation.name; for a batch, "BATCH <verb>" when
// every statement has the same verb, else "BATCH".
func operation(e *forge.QueryEvent) string {
	if e.BatchSize < 2 {
		return verb(e.SQL)
	}
	var v string
	for i, s := range strings.Split(e.SQL, ";\n") {
		sv := verb(s)
		if i > 0 && sv != v {
			return "BATCH"
		}
		v = sv
	}
	return "BATCH " + v
}

func (o *Observer) attrs(e *forge.QueryEvent, op, summary string, withText bool) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 11)
	kv = append(kv, attribute.String("db.system.name", o.systemName(e)))
	if o.namespace != "" {
		kv = append(kv, attribute.String("db.namespace", o.namespace))
	}
	if e.Table != "" {
		kv = append(kv, attribute.String("db.collection.name", e.Table))
	}
	if op != "" {
		kv = append(kv, attribute.String("db.operation.name", op))
	}
	kv = append(kv, attribute.String("db.query.summary", summary))
	if withText && e.SQL != "" {
		kv = append(kv, attribute.String("db.query.text", e.SQL))
	}
	if e.BatchSize > 1 {
		kv = append(kv, attribute.Int("db.operation.batch.size", e.BatchSize))
	}
	if o.host != "" {
		kv = append(kv, attribute.String("server.address", o.host))
		if o.port != 0 {
			kv = append(kv, attribute.Int("server.port", o.port))
		}
	}
	if withText {
		kv = append(kv, attribute.String("forge.operation", string(e.Operation)))
	}
	return kv
}

func summaryOf(op, table string) string {
	if table == "" {
		return op
	}
	return op + " " + table
}

// QueryStart implements forge.Observer: it starts the statement's span
// (for BEGIN, the transaction's).
func (o *Observer) QueryStart(ctx context.Context, e *forge.QueryEvent) context.Context {
	switch e.Operation {
	case forge.OpCommit, forge.OpRollback:
		return ctx // the transaction's span ends in QueryEnd
	}
	if !o.tracing {
		return ctx
	}
	if e.InTx && e.TxContext != nil {
		if tx := trace.SpanFromContext(e.TxContext); tx.SpanContext().IsValid() {
			ctx = trace.ContextWithSpan(ctx, tx)
		}
	}
	op := operation(e)
	name := summaryOf(op, e.Table)
	if e.Operation == forge.OpBegin {
		name = "transaction"
		op = "BEGIN"
	}
	ctx, _ = o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(e.Start), trace.WithAttributes(o.attrs(e, op, name, true)...))
	return ctx
}

// QueryEnd implements forge.Observer.
func (o *Observer) QueryEnd(ctx context.Context, e *forge.QueryEvent) {
	op := operation(e)
	if e.Operation == forge.OpBegin {
		op = "BEGIN"
	}
	if o.duration.Enabled(ctx) {
		kv := o.attrs(e, op, summaryOf(op, e.Table), false)
		if e.Err != nil {
			kv = append(kv, attribute.String("error.type", errorType(e.Err)))
		}
		o.duration.Record(ctx, e.Duration.Seconds(), metric.WithAttributes(kv...))
	}
	if !o.tracing {
		return
	}
	span := trace.SpanFromContext(ctx)
	end := e.Start.Add(e.Duration)
	switch e.Operation {
	case forge.OpBegin:
		if e.Err == nil {
			return // the transaction's span stays open until COMMIT or ROLLBACK
		}
	case forge.OpCommit, forge.OpRollback:
		if e.TxContext == nil {
			return
		}
		span = trace.SpanFromContext(e.TxContext)
		span.AddEvent(strings.ToLower(string(e.Operation)), trace.WithTimestamp(end))
		if e.Operation == forge.OpRollback {
			span.SetAttributes(attribute.Bool("forge.transaction.rolled_back", true))
		}
	}
	if !span.IsRecording() {
		return
	}
	if e.Err != nil {
		span.SetAttributes(attribute.String("error.type", errorType(e.Err)))
		span.SetStatus(codes.Error, e.Err.Error())
		span.RecordError(e.Err, trace.WithTimestamp(end))
	}
	if e.Operation != forge.OpBegin && e.Operation != forge.OpCommit && e.Operation != forge.OpRollback {
		span.SetAttributes(attribute.Int64("db.response.returned_rows", e.Rows))
	}
	span.End(trace.WithTimestamp(end))
}

// errorType is error.type: a constraint's kind, a cancellation, or the
// error's Go type.
func errorType(err error) string {
	var ce *driver.ConstraintError
	var be *driver.BatchError
	switch {
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	case errors.As(err, &ce):
		return "constraint"
	case errors.As(err, &be) && be.Err != nil:
		return errorType(be.Err)
	}
	return fmt.Sprintf("%T", err)
}
