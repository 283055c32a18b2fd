package otel_test

import (
	"context"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/fakedriver"
	forgeotel "github.com/forge-orm/forge/otel"
)

// BenchmarkNoopObserver runs one statement (a FindFirst on the scripted
// driver) without an observer and with the observer on a no-op tracer and
// meter: the difference is what the observer costs when tracing is off.
func BenchmarkNoopObserver(b *testing.B) {
	obs, err := forgeotel.New(forgeotel.WithTracerProvider(tracenoop.NewTracerProvider()),
		forgeotel.WithMeterProvider(metricnoop.NewMeterProvider()))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts []forge.OpenOption
	}{
		{"none", nil},
		{"noop", []forge.OpenOption{forge.WithObserver(obs)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := fakedriver.New(dialect.SQLite, fakedriver.All)
			f.On(fakedriver.Any()).Rows([]string{"id", "email"}, []any{int64(1), "a@x"})
			db, _ := forge.Open(forge.MustSchema(Users, Posts), f.Conn(), bc.opts...)
			ctx := context.Background()
			c := Users.Cols()
			where := forge.Where(forge.Eq(&c.Email, "a@x"))
			b.ReportAllocs()
			for range b.N {
				if _, err := Users.FindFirst(ctx, db, where); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNoopObserverEvent is the observer's own part of the above: its
// QueryStart and QueryEnd for one statement, with a no-op tracer and meter.
func BenchmarkNoopObserverEvent(b *testing.B) {
	obs, _ := forgeotel.New(forgeotel.WithTracerProvider(tracenoop.NewTracerProvider()),
		forgeotel.WithMeterProvider(metricnoop.NewMeterProvider()))
	ctx := context.Background()
	e := &forge.QueryEvent{Operation: forge.OpFindFirst, Model: "User", Table: "users", System: "sqlite",
		SQL: `SELECT "id", "email" FROM "users" WHERE "email" = ? LIMIT 1`}
	b.ReportAllocs()
	for range b.N {
		c := obs.QueryStart(ctx, e)
		obs.QueryEnd(c, e)
	}
}
