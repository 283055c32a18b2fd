package forge_test

// Shared pieces of the tests that run forge on the scripted driver
// (driver/fakedriver): the models, a dialect with a small parameter limit
// (to reach chunking with a handful of rows) and an event recorder.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/fakedriver"
)

// Gadget has a field of every kind forge maps.
type Gadget struct {
	ID         string
	Name       string
	Note       *string
	Count      int64
	Maybe      *int64
	Small      int32
	MaybeSmall *int32
	Price      float64
	MaybePrice *float64
	On         bool
	MaybeOn    *bool
	Made       time.Time
	Seen       *time.Time
	Blob       []byte
	MaybeBlob  []byte
	Meta       map[string]any
	Tags       []string
	Parts      []Part
}

// Part belongs to a Gadget through a nullable key.
type Part struct {
	ID       int64
	GadgetID *string
	Label    string
	Gadget   *Gadget
}

var (
	Gadgets = forge.Model("gadgets", func(g *Gadget, f *forge.Fields) {
		f.TextID(&g.ID)
		f.Text(&g.Name).Unique()
		f.NullText(&g.Note)
		f.Int(&g.Count).Default(int64(5))
		f.NullInt(&g.Maybe)
		f.Int32(&g.Small).Index()
		f.NullInt32(&g.MaybeSmall)
		f.Float(&g.Price).Default(1.5)
		f.NullFloat(&g.MaybePrice)
		f.Bool(&g.On)
		f.NullBool(&g.MaybeOn).Default(true)
		f.Time(&g.Made).DefaultNow()
		f.NullTime(&g.Seen)
		f.Bytes(&g.Blob)
		f.NullBytes(&g.MaybeBlob)
		f.JSON(&g.Meta).Default(map[string]any{"v": 1})
		f.NullJSON(&g.Tags)
		f.Index(&g.Small, &g.Count).Unique()
		f.HasMany(&g.Parts, func(p *Part) **string { return &p.GadgetID })
	})
	Parts = forge.Model("parts", func(p *Part, f *forge.Fields) {
		f.ID(&p.ID)
		f.NullText(&p.GadgetID)
		f.Text(&p.Label)
		f.BelongsTo(&p.Gadget, &p.GadgetID).OnDelete(forge.SetNull)
	})
	fakeSchema = forge.MustSchema(Accounts, Orders, Authors, Books, Gadgets, Parts)
)

// gadgetCols are Gadget's columns in declaration order, as forge selects them.
var gadgetCols = []string{"id", "name", "note", "count", "maybe", "small", "maybe_small", "price", "maybe_price",
	"on", "maybe_on", "made", "seen", "blob", "maybe_blob", "meta", "tags"}

// gadgetRow is a stored gadget as SQLite returns it.
func gadgetRow(id, name string) []any {
	return []any{id, name, nil, int64(3), int64(4), int64(5), nil, 2.5, nil,
		int64(1), nil, "2024-01-02T03:04:05.000000000Z", nil, []byte("ab"), nil, `{"a":1}`, nil}
}

// smallParams is a dialect with a parameter limit of max, so that chunked
// statements (CreateMany, Include) need only a few rows.
type smallParams struct {
	dialect.Dialect
	max int
}

func (d smallParams) MaxParams() int { return d.max }

// openFake returns a fake with caps and a DB on it over all the test models.
func openFake(t *testing.T, d dialect.Dialect, caps fakedriver.Caps, opts ...forge.OpenOption) (*fakedriver.Fake, *forge.DB) {
	t.Helper()
	f := fakedriver.New(d, caps)
	db, err := forge.Open(fakeSchema, f.Conn(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f, db
}

// fakeRecorder records events as text, and checks that the context returned
// by QueryStart reaches QueryEnd.
type fakeRecorder struct {
	mu     sync.Mutex
	events []string
	muts   []*forge.MutationEvent
	bad    int
}

type fakeCtxKey struct{}

func (r *fakeRecorder) QueryStart(ctx context.Context, e *forge.QueryEvent) context.Context {
	return context.WithValue(ctx, fakeCtxKey{}, e)
}

func (r *fakeRecorder) QueryEnd(ctx context.Context, e *forge.QueryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ctx.Value(fakeCtxKey{}) != e {
		r.bad++
	}
	s := string(e.Operation)
	if e.InTx {
		s += " tx"
	}
	if e.Err != nil {
		s += " err"
	}
	r.events = append(r.events, s)
}

func (r *fakeRecorder) Mutation(ctx context.Context, e *forge.MutationEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.muts = append(r.muts, e)
}

// ops returns the recorded operations, space separated.
func (r *fakeRecorder) ops() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, ", ")
}

// fakeKinds returns the kinds and SQL verbs of the recorded statements:
// "begin", "query SELECT", "exec INSERT"...
func fakeKinds(f *fakedriver.Fake) string {
	var out []string
	for _, s := range f.Statements() {
		k := s.Kind.String()
		if s.Kind == fakedriver.Query || s.Kind == fakedriver.Exec {
			verb, _, _ := strings.Cut(s.SQL, " ")
			k += " " + verb
		}
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}
