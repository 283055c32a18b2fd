// Package forgetest is forge's conformance suite: one list of behaviour
// tests that every driver runs against its real database. An adapter's test
// calls Run with a function that opens a fresh, empty database:
//
//	func TestConformance(t *testing.T) {
//		forgetest.Run(t, func(t testing.TB) driver.Conn {
//			conn, err := sqlite.Open(filepath.Join(t.TempDir(), "test.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return conn
//		})
//	}
//
// Run creates the suite's schema in that database, so each call of the
// opener must return a database (or a schema namespace) of its own.
package forgetest

import (
	"time"

	"github.com/forge-orm/forge"
)

// User is a model with an auto-increment id, a unique email and a has-many
// relation.
type User struct {
	ID        int64
	Email     string
	Name      string
	Age       int64
	Nickname  *string
	CreatedAt time.Time
	Posts     []Post
	Profile   []Profile
}

// Post belongs to a User.
type Post struct {
	ID       int64
	AuthorID int64
	Title    string
	Words    int32
	Score    float64
	Draft    bool
	Author   *User
	Comments []Comment
}

// Comment belongs to a Post and optionally to a User.
type Comment struct {
	ID       string
	PostID   int64
	AuthorID *int64
	Body     string
	Author   *User
}

// Profile has a client-generated text id and an optional owner.
type Profile struct {
	ID      string
	OwnerID *int64
	Bio     string
}

// Tag has a unique index over two columns.
type Tag struct {
	ID    int64
	Scope string
	Name  string
}

// Meta is stored as JSON.
type Meta struct {
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs,omitempty"`
	N     int64             `json:"n"`
}

// Value holds one column of every kind, and a nullable version of each.
type Value struct {
	ID    int64
	Text  string
	I64   int64
	I32   int32
	F     float64
	B     bool
	T     time.Time
	Bytes []byte
	JSON  Meta

	NText  *string
	NI64   *int64
	NI32   *int32
	NF     *float64
	NB     *bool
	NT     *time.Time
	NBytes []byte
	NJSON  *Meta
}

// The suite's models.
var (
	Users = forge.Model("users", func(u *User, f *forge.Fields) {
		f.ID(&u.ID)
		f.Text(&u.Email).Unique()
		f.Text(&u.Name).Index()
		f.Int(&u.Age).Default(int64(18))
		f.NullText(&u.Nickname)
		f.Time(&u.CreatedAt).DefaultNow()
		f.HasMany(&u.Posts, func(p *Post) *int64 { return &p.AuthorID })
		f.HasMany(&u.Profile, func(p *Profile) **int64 { return &p.OwnerID })
	})
	Posts = forge.Model("posts", func(p *Post, f *forge.Fields) {
		f.ID(&p.ID)
		f.Int(&p.AuthorID).Index()
		f.Text(&p.Title)
		f.Int32(&p.Words)
		f.Float(&p.Score)
		f.Bool(&p.Draft).Default(false)
		f.BelongsTo(&p.Author, &p.AuthorID).OnDelete(forge.Cascade)
		f.HasMany(&p.Comments, func(c *Comment) *int64 { return &c.PostID })
	})
	Comments = forge.Model("comments", func(c *Comment, f *forge.Fields) {
		f.TextID(&c.ID)
		f.Int(&c.PostID).References(forge.Ref[Post]()).OnDelete(forge.Cascade)
		f.NullInt(&c.AuthorID)
		f.Text(&c.Body).Column("body_text")
		f.BelongsTo(&c.Author, &c.AuthorID).OnDelete(forge.SetNull)
	})
	Profiles = forge.Model("profiles", func(p *Profile, f *forge.Fields) {
		f.TextID(&p.ID)
		f.NullInt(&p.OwnerID).References(forge.Ref[User]()).OnDelete(forge.SetNull)
		f.Text(&p.Bio)
	})
	Tags = forge.Model("tags", func(t *Tag, f *forge.Fields) {
		f.ID(&t.ID)
		f.Text(&t.Scope)
		f.Text(&t.Name)
		f.Index(&t.Scope, &t.Name).Unique()
	})
	Values = forge.Model("all_values", func(v *Value, f *forge.Fields) {
		f.ID(&v.ID)
		f.Text(&v.Text)
		f.Int(&v.I64)
		f.Int32(&v.I32)
		f.Float(&v.F)
		f.Bool(&v.B)
		f.Time(&v.T)
		f.Bytes(&v.Bytes)
		f.JSON(&v.JSON)
		f.NullText(&v.NText)
		f.NullInt(&v.NI64)
		f.NullInt32(&v.NI32)
		f.NullFloat(&v.NF)
		f.NullBool(&v.NB)
		f.NullTime(&v.NT)
		f.NullBytes(&v.NBytes)
		f.NullJSON(&v.NJSON)
	})

	// Schema is the suite's schema.
	Schema = forge.MustSchema(Users, Posts, Comments, Profiles, Tags, Values)
)
