// Package forge is an ORM whose models are plain Go structs described in Go
// and whose queries are typed by those structs' fields.
//
// Declare each model once, with [Model], gather them in a [Schema] with
// [NewSchema], and bind the schema to a driver with [Open]. Model methods
// (FindMany, Create, Update...) take a [Querier]: a *DB or, inside
// [DB.Transaction], a *Tx.
//
// Filters name columns with pointers into a model's template ([ModelOf.Cols]):
//
//	c := Users.Cols()
//	users, err := Users.FindMany(ctx, db, forge.Where(forge.Eq(&c.Email, email)))
//
// Eq[V] takes a *V and a V, so comparing a column with a value of another
// type does not compile. A pointer that is not a field of the model is
// reported as a *QueryError before anything reaches the database.
//
// Every value is stored so that every database gives it back exactly, or is
// refused, before anything is written, with a *ValueError naming the model
// and field: text must be valid UTF-8 without NUL, floats finite, times
// within years 1 to 9999 (stored in UTC, in whole microseconds). NULL sorts
// as the largest value on every database. docs/ARCHITECTURE.md has the
// table per value class and database.
//
// [ModelOf.Watch] yields a query's rows and then each change of them, by
// polling a cheap change probe of the database; [WithReplicas] sends reads to
// replicas that have applied the DB's writes (read-your-writes), with
// [DB.Token] and [ReadAfter] to carry that across requests.
//
// Drivers implement the small port in package driver and are passed to Open
// as values: the embedded SQLite driver (module github.com/forge-orm/forge/sqlite),
// PostgreSQL over pgx (github.com/forge-orm/forge/pgx), and any database/sql
// DB (package stdsql).
package forge
