//go:build js && wasm

package workers

import (
	"fmt"
	"syscall/js"
)

// AnalyticsEngine is a Workers Analytics Engine dataset (a binding declared
// under [[analytics_engine_datasets]] in wrangler.toml). Its data points
// are queried later with SQL over Cloudflare's API.
//
// The edge guide's query duration histogram, fed by forge's query events:
//
//	ae, err := env.AnalyticsEngine("QUERIES")
//	...
//	db, err := forge.Open(Schema, conn, forge.WithObserver(forge.ObserverFuncs{
//		End: func(ctx context.Context, e *forge.QueryEvent) {
//			failed := 0.0
//			if e.Err != nil {
//				failed = 1
//			}
//			_ = ae.WriteDataPoint(workers.DataPoint{
//				Indexes: []string{e.Model},
//				Blobs:   []string{string(e.Operation)},
//				Doubles: []float64{float64(e.Duration.Microseconds()) / 1000, float64(e.Rows), failed},
//			})
//		},
//	}))
//
// then, over the SQL API, a histogram per model and operation:
//
//	SELECT index1 AS model, blob1 AS op, quantileWeighted(0.5)(double1, _sample_interval) AS p50_ms,
//	       quantileWeighted(0.99)(double1, _sample_interval) AS p99_ms, sum(_sample_interval) AS queries
//	FROM QUERIES WHERE timestamp > NOW() - INTERVAL '1' HOUR GROUP BY model, op
//
// (In a Worker time.Now() does not advance while a request runs, only
// across I/O, so a query's Duration measures its I/O wait, which is what
// the database costs.)
type AnalyticsEngine struct {
	ds  js.Value
	env *Env
}

// DataPoint is one row of an Analytics Engine dataset. Limits (checked by
// WriteDataPoint): at most 20 blobs of at most 16 KB together, 20 doubles,
// and 1 index of at most 96 bytes (the sampling key).
type DataPoint struct {
	Indexes []string
	Blobs   []string
	Doubles []float64
}

// AnalyticsEngine returns the dataset bound as name.
func (e *Env) AnalyticsEngine(name string) (*AnalyticsEngine, error) {
	b := e.Binding(name)
	if b.IsUndefined() || b.IsNull() {
		return nil, fmt.Errorf("forge/workers: the Worker has no binding named %q; declare it in wrangler.toml:\n[[analytics_engine_datasets]]\nbinding = %q\ndataset = \"...\"", name, name)
	}
	if b.Type() != js.TypeObject || b.Get("writeDataPoint").Type() != js.TypeFunction {
		return nil, fmt.Errorf("forge/workers: the binding %q has no writeDataPoint method: it is not an Analytics Engine dataset", name)
	}
	return &AnalyticsEngine{ds: b, env: e}, nil
}

// WriteDataPoint writes p, without waiting: the runtime sends data points
// after the response. It fails only on p outside the limits of DataPoint.
func (a *AnalyticsEngine) WriteDataPoint(p DataPoint) error {
	if len(p.Indexes) > 1 {
		return fmt.Errorf("forge/workers: a data point has at most 1 index, not %d", len(p.Indexes))
	}
	if len(p.Indexes) == 1 && len(p.Indexes[0]) > 96 {
		return fmt.Errorf("forge/workers: a data point's index is at most 96 bytes, not %d", len(p.Indexes[0]))
	}
	if len(p.Blobs) > 20 || len(p.Doubles) > 20 {
		return fmt.Errorf("forge/workers: a data point has at most 20 blobs and 20 doubles, not %d and %d", len(p.Blobs), len(p.Doubles))
	}
	size := 0
	for _, b := range p.Blobs {
		size += len(b)
	}
	if size > 16*1024 {
		return fmt.Errorf("forge/workers: a data point's blobs are at most 16 KB together, not %d bytes", size)
	}
	write := func() {
		o := js.Global().Get("Object").New()
		o.Set("indexes", jsStrings(p.Indexes))
		o.Set("blobs", jsStrings(p.Blobs))
		doubles := js.Global().Get("Array").New(len(p.Doubles))
		for i, d := range p.Doubles {
			doubles.SetIndex(i, d)
		}
		o.Set("doubles", doubles)
		if err := call(func() { a.ds.Call("writeDataPoint", o) }); err != nil {
			logError("writeDataPoint: " + err.Error())
		}
	}
	if r := a.env.hold(); r != nil {
		defer r.Release()
		if r.Run(write) == nil {
			return nil
		}
	}
	write()
	return nil
}

func jsStrings(ss []string) js.Value {
	a := js.Global().Get("Array").New(len(ss))
	for i, s := range ss {
		a.SetIndex(i, s)
	}
	return a
}
