package bench

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// pgxLib is hand-written pgx v5 code on a pgxpool.Pool: the baseline on
// PostgreSQL. pgx's default query mode caches prepared statements per
// connection.
type pgxLib struct {
	pool *pgxpool.Pool
	q    handSQL
	ids  IDSeq
}

func openPgx(ctx context.Context, e *Env) (Lib, error) {
	pool, err := pgxpool.New(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	return &pgxLib{pool: pool, q: pgSQL}, nil
}

func (l *pgxLib) Close() error { l.pool.Close(); return nil }

func (l *pgxLib) InsertOne(ctx context.Context, i int) error {
	u := NewUser(i)
	var id int64
	if err := l.pool.QueryRow(ctx, l.q.insertOne, u.Name, u.Email, u.City, u.Bio, u.Age, u.Active, u.Balance).Scan(&id); err != nil {
		return err
	}
	return l.ids.Next(id)
}

func (l *pgxLib) InsertMany(ctx context.Context, i int) error {
	src := NewUsers()
	args := make([]any, 0, len(src)*7)
	for k := range src {
		args = userArgs(args, &src[k])
	}
	rows, err := l.pool.Query(ctx, l.q.insertMany, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		if err := l.ids.Next(id); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return CheckCount("insert-100", n, ManyRows)
}

func (l *pgxLib) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	tag, err := l.pool.Exec(ctx, l.q.update, id, city, balance)
	if err != nil {
		return err
	}
	return CheckAffected(tag.RowsAffected())
}

func (l *pgxLib) ReadOne(ctx context.Context, i int) error {
	id := ReadID(i)
	var r Row
	if err := l.pool.QueryRow(ctx, l.q.get, id).Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
		return err
	}
	return CheckUser(r, id)
}

func (l *pgxLib) ReadMany(ctx context.Context, i int) error {
	rows, err := l.pool.Query(ctx, l.q.list, ManyRows)
	if err != nil {
		return err
	}
	defer rows.Close()
	users := make([]Row, 0, ManyRows)
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
			return err
		}
		users = append(users, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return checkRows(users)
}

func (l *pgxLib) ReadRelations(ctx context.Context, i int) error {
	users, err := l.parents(ctx)
	if err != nil {
		return err
	}
	ids := make([]int64, len(users))
	at := make(map[int64]int, len(users))
	for k := range users {
		ids[k] = users[k].ID
		at[users[k].ID] = k
	}
	rows, err := l.pool.Query(ctx, l.q.posts, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p PostRow
		if err := rows.Scan(&p.ID, &p.UserID, &p.Title, &p.Likes); err != nil {
			return err
		}
		u := &users[at[p.UserID]]
		u.Posts = append(u.Posts, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return checkUserPosts(users)
}

func (l *pgxLib) parents(ctx context.Context) ([]UserPosts, error) {
	rows, err := l.pool.Query(ctx, l.q.list, RelParents)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := make([]UserPosts, 0, RelParents)
	for rows.Next() {
		var r UserPosts
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
			return nil, err
		}
		users = append(users, r)
	}
	return users, rows.Err()
}

func (l *pgxLib) BuildSelect(int) error { return ErrNotApplicable }

// checkRows checks a hand-written read-100: users 1..ManyRows in order.
func checkRows(users []Row) error {
	if err := CheckCount("read-100", len(users), ManyRows); err != nil {
		return err
	}
	for k := range users {
		if err := CheckUser(users[k], int64(k+1)); err != nil {
			return err
		}
	}
	return nil
}

// checkUserPosts checks a hand-written relation read: users 1..RelParents
// in order, each with its posts.
func checkUserPosts(users []UserPosts) error {
	if err := CheckCount("parents", len(users), RelParents); err != nil {
		return err
	}
	for k := range users {
		u := &users[k]
		if err := CheckUser(u.Row, int64(k+1)); err != nil {
			return err
		}
		if err := CheckCount("posts", len(u.Posts), PostsPerUser); err != nil {
			return err
		}
		for _, p := range u.Posts {
			if err := CheckPost(p, u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
