package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Post is the bench_posts table, the child of User.
type Post struct {
	ent.Schema
}

// Annotations names the table.
func (Post) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "bench_posts"}}
}

// Fields of Post.
func (Post) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("user_id"),
		field.String("title"),
		field.Int64("likes"),
	}
}

// Edges of Post.
func (Post) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("posts").Field("user_id").Unique().Required(),
	}
}
