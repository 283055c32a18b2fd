// Package bench compares forge with hand-written pgx and database/sql code,
// sqlc, GORM, bun and ent on one model and one set of operations, on
// PostgreSQL and on SQLite. Every library implements [Lib]; every operation
// checks what it got back (row counts and values), so a library that does
// less cannot win.
//
// The model is two tables (sqlc/postgres/schema.sql, sqlc/sqlite/schema.sql):
// bench_users (id, four text columns, an integer, a boolean and a bigint)
// and its child bench_posts (id, user_id, title, likes).
//
// The data every benchmark process starts from (see [Seed]):
//
//   - users 1..ReadUsers are only read: read-one, read-100 and the relation
//     read check every value against [SeedUser];
//   - users ReadUsers+1..SeedUsers are the targets of update-one;
//   - every user has PostsPerUser posts;
//   - inserts add rows after those.
package bench

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Row is a bench_users row: what the hand-written code scans into, and the
// shape every library's result is compared with.
type Row struct {
	ID      int64
	Name    string
	Email   string
	City    string
	Bio     string
	Age     int32
	Active  bool
	Balance int64
}

// PostRow is a bench_posts row.
type PostRow struct {
	ID     int64
	UserID int64
	Title  string
	Likes  int64
}

// UserPosts is a user with its posts, for the hand-written relation reads.
type UserPosts struct {
	Row
	Posts []PostRow
}

// Sizes of the data set and of the operations.
const (
	SeedUsers    = 2000 // users in the seeded tables
	ReadUsers    = 1000 // users 1..ReadUsers are never written
	PostsPerUser = 5    // posts per seeded user
	ManyRows     = 100  // rows of insert-100 and read-100
	RelParents   = 20   // parents of the relation read
	BuildLimit   = 20   // the LIMIT of build-select
	BuildMinAge  = 30   // build-select: age > BuildMinAge AND active = true
)

var cities = [...]string{"Lisbon", "Osaka", "Nairobi", "Lima", "Oslo", "Perth", "Quito", "Tunis"}

var (
	seedUsers []Row
	seedPosts []PostRow
	newUsers  [ManyRows]Row
)

func init() {
	seedUsers = make([]Row, SeedUsers)
	for i := range seedUsers {
		id := int64(i + 1)
		n := strconv.FormatInt(id, 10)
		seedUsers[i] = Row{
			ID:      id,
			Name:    "user " + n,
			Email:   "user" + n + "@example.com",
			City:    cities[i%len(cities)],
			Bio:     "Bio of user " + n + ": writes Go, reads SQL, benchmarks with care.",
			Age:     int32(18 + i%60),
			Active:  i%3 != 0,
			Balance: id*1_000_003 + 7,
		}
	}
	seedPosts = make([]PostRow, SeedUsers*PostsPerUser)
	for i := range seedPosts {
		uid := int64(i/PostsPerUser + 1)
		seedPosts[i] = PostRow{
			ID:     int64(i + 1),
			UserID: uid,
			Title:  "post " + strconv.Itoa(i%PostsPerUser+1) + " of user " + strconv.FormatInt(uid, 10),
			Likes:  uid*10 + int64(i%PostsPerUser),
		}
	}
	for i := range newUsers {
		n := strconv.Itoa(i)
		newUsers[i] = Row{
			Name:    "new user " + n,
			Email:   "new" + n + "@example.com",
			City:    cities[i%len(cities)],
			Bio:     "Inserted by the benchmark, row " + n + " of every batch.",
			Age:     int32(20 + i%50),
			Active:  i%2 == 0,
			Balance: int64(i) * 99_991,
		}
	}
}

// SeedUsersData returns the seeded users (do not modify).
func SeedUsersData() []Row { return seedUsers }

// SeedPostsData returns the seeded posts (do not modify).
func SeedPostsData() []PostRow { return seedPosts }

// SeedUser returns the seeded values of user id.
func SeedUser(id int64) *Row { return &seedUsers[id-1] }

// NewUser returns the values inserted by insert-one in iteration i (ID 0).
func NewUser(i int) *Row { return &newUsers[i%ManyRows] }

// NewUsers returns the ManyRows rows inserted by insert-100 (IDs 0; do not
// modify).
func NewUsers() []Row { return newUsers[:] }

// ReadID is the user read by read-one in iteration i: one of 1..ReadUsers.
func ReadID(i int) int64 { return int64(i%ReadUsers + 1) }

// UpdateTarget is what update-one changes in iteration i: the user (one
// of ReadUsers+1..SeedUsers), its new city and its new balance.
func UpdateTarget(i int) (id int64, city string, balance int64) {
	return int64(ReadUsers + 1 + i%(SeedUsers-ReadUsers)), cities[(i+3)%len(cities)], int64(i)*7 + 1
}

// ErrNotApplicable is returned by operations a library does not have:
// hand-written code and sqlc do not build SQL at run time.
var ErrNotApplicable = errors.New("not applicable to this library")

// CheckUser checks that got is seeded user want, every column.
func CheckUser(got Row, want int64) error {
	if got.ID != want {
		return fmt.Errorf("got user %d, want user %d", got.ID, want)
	}
	if got.ID < 1 || got.ID > SeedUsers {
		return fmt.Errorf("user id %d out of the seeded range", got.ID)
	}
	if w := seedUsers[got.ID-1]; got != w {
		return fmt.Errorf("user %d: got %+v, want %+v", got.ID, got, w)
	}
	return nil
}

// CheckPost checks that got is a seeded post of user parent, every column.
func CheckPost(got PostRow, parent int64) error {
	if got.UserID != parent {
		return fmt.Errorf("post %d: user_id %d, want %d", got.ID, got.UserID, parent)
	}
	if got.ID < 1 || got.ID > int64(len(seedPosts)) {
		return fmt.Errorf("post id %d out of the seeded range", got.ID)
	}
	if w := seedPosts[got.ID-1]; got != w {
		return fmt.Errorf("post %d: got %+v, want %+v", got.ID, got, w)
	}
	return nil
}

// CheckCount checks the number of rows an operation returned.
func CheckCount(what string, got, want int) error {
	if got != want {
		return fmt.Errorf("%s: got %d rows, want %d", what, got, want)
	}
	return nil
}

// CheckAffected checks that an update changed exactly one row.
func CheckAffected(n int64) error {
	if n != 1 {
		return fmt.Errorf("update changed %d rows, want exactly 1", n)
	}
	return nil
}

// IDSeq checks that generated ids keep increasing: each insert must return
// a new id, larger than every id the library saw before.
type IDSeq struct{ last int64 }

// Next checks id and remembers it.
func (s *IDSeq) Next(id int64) error {
	if id <= s.last || id <= SeedUsers {
		return fmt.Errorf("insert returned id %d after %d (seeded ids end at %d)", id, s.last, SeedUsers)
	}
	s.last = id
	return nil
}

// CheckBuilt checks the SQL a library built for build-select: a SELECT
// from bench_users with both conditions, an ORDER BY and a LIMIT. nargs is
// the number of bound arguments: 2; 1 where the library writes "active =
// true" as a bare boolean (ent); 3 where it binds the limit too (GORM on
// PostgreSQL); bun writes values into the SQL text and passes -1.
func CheckBuilt(sql string, nargs int) error {
	if !strings.HasPrefix(sql, "SELECT ") || !strings.Contains(sql, "bench_users") ||
		!strings.Contains(sql, "age") || !strings.Contains(sql, "active") ||
		!strings.Contains(sql, "ORDER BY") || !strings.Contains(sql, "LIMIT") {
		return fmt.Errorf("unexpected SQL: %s", sql)
	}
	if nargs == 0 || nargs > 3 {
		return fmt.Errorf("%d arguments, want 1 to 3: %s", nargs, sql)
	}
	if nargs < 0 && !strings.Contains(sql, strconv.Itoa(BuildMinAge)) {
		return fmt.Errorf("the age bound is missing: %s", sql)
	}
	return nil
}
