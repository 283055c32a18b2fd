package bench

import "context"

// Lib is one library's implementation of the benchmark's operations on one
// database. Every method does the whole operation the way the library's
// documentation shows it, checks the result, and returns an error when it
// is wrong. i is the iteration number: it picks the row to read or write.
type Lib interface {
	// InsertOne inserts one user and reads back its generated id.
	InsertOne(ctx context.Context, i int) error
	// InsertMany inserts ManyRows users in one statement and reads back
	// their ids.
	InsertMany(ctx context.Context, i int) error
	// UpdateOne sets the city and balance of one user by id and checks
	// that exactly one row changed.
	UpdateOne(ctx context.Context, i int) error
	// ReadOne reads one user by id.
	ReadOne(ctx context.Context, i int) error
	// ReadMany reads the first ManyRows users, ordered by id, into a slice.
	ReadMany(ctx context.Context, i int) error
	// ReadRelations reads the first RelParents users, ordered by id, each
	// with its posts, with the library's own eager loading.
	ReadRelations(ctx context.Context, i int) error
	// BuildSelect builds, without a database round trip, the SQL of
	// SELECT (every column) FROM bench_users WHERE age > 30 AND active =
	// true ORDER BY id DESC LIMIT 20.
	BuildSelect(i int) error
	// Close releases the library's connections.
	Close() error
}

// Databases.
const (
	Postgres = "pg"
	SQLite   = "sqlite"
	MySQL    = "mysql" // MariaDB in the committed results
)

// Spec names a library on a database and opens it.
type Spec struct {
	DB   string // Postgres, SQLite or MySQL
	Name string // the last element of the benchmark name
	Open func(ctx context.Context, e *Env) (Lib, error)
	// Baseline marks the hand-written code the others are compared with.
	Baseline bool
}

// Specs lists every library on every database, in the order of the report.
var Specs = []Spec{
	{DB: Postgres, Name: "pgx", Open: openPgx, Baseline: true},
	{DB: Postgres, Name: "database-sql", Open: openStdSQL},
	{DB: Postgres, Name: "sqlc", Open: openSqlc},
	{DB: Postgres, Name: "forge", Open: openForge},
	{DB: Postgres, Name: "gorm", Open: openGorm},
	{DB: Postgres, Name: "bun-pgdriver", Open: openBunPgdriver},
	{DB: Postgres, Name: "bun-pgx", Open: openBunPgx},
	{DB: Postgres, Name: "ent", Open: openEnt},

	{DB: SQLite, Name: "database-sql", Open: openStdSQL, Baseline: true},
	{DB: SQLite, Name: "database-sql-prepared", Open: openStdSQLPrepared},
	{DB: SQLite, Name: "sqlc", Open: openSqlc},
	{DB: SQLite, Name: "forge", Open: openForge},
	{DB: SQLite, Name: "gorm", Open: openGorm},
	{DB: SQLite, Name: "bun", Open: openBunSQLite},
	{DB: SQLite, Name: "ent", Open: openEnt},

	{DB: MySQL, Name: "database-sql", Open: openStdSQL, Baseline: true},
	{DB: MySQL, Name: "database-sql-prepared", Open: openStdSQLPrepared},
	{DB: MySQL, Name: "sqlc", Open: openSqlc},
	{DB: MySQL, Name: "forge", Open: openForge},
	{DB: MySQL, Name: "gorm", Open: openGorm},
	{DB: MySQL, Name: "bun", Open: openBunMySQL},
	{DB: MySQL, Name: "ent", Open: openEnt},
}

// SpecsFor returns the libraries on db.
func SpecsFor(db string) []Spec {
	var out []Spec
	for _, s := range Specs {
		if s.DB == db {
			out = append(out, s)
		}
	}
	return out
}

// Op is one operation of the benchmark.
type Op struct {
	Name string
	Run  func(l Lib, ctx context.Context, i int) error
}

// Ops lists the operations, in the order of the report.
var Ops = []Op{
	{"insert-one", Lib.InsertOne},
	{"insert-100", Lib.InsertMany},
	{"update-one", Lib.UpdateOne},
	{"read-one", Lib.ReadOne},
	{"read-100", Lib.ReadMany},
	{"read-20-with-children", Lib.ReadRelations},
	{"build-select", func(l Lib, _ context.Context, i int) error { return l.BuildSelect(i) }},
}
