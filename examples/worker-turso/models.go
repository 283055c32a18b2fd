package main

import (
	"strconv"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/edge/workers"
)

// The models have no build tag: they compile everywhere, so the schema can
// be created and tested on any machine (see worker_test.go).

// Note is one note.
type Note struct {
	ID   int64
	Text string
}

// AppendJSON writes n as {"id", "text"} (workers.JSONAppender).
func (n Note) AppendJSON(b []byte) []byte {
	b = strconv.AppendInt(append(b, `{"id":`...), n.ID, 10)
	b = workers.AppendJSONString(append(b, `,"text":`...), n.Text)
	return append(b, '}')
}

// NoteList writes a list of notes as a JSON array.
type NoteList []Note

// AppendJSON implements workers.JSONAppender.
func (l NoteList) AppendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, n := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = n.AppendJSON(b)
	}
	return append(b, ']')
}

// Notes is the notes model.
var Notes = forge.Model("notes", func(n *Note, f *forge.Fields) {
	f.ID(&n.ID)
	f.Text(&n.Text)
})

// Schema is the Worker's schema.
var Schema = forge.MustSchema(Notes)
