-- name: InsertUser :execlastid
INSERT INTO bench_users (name, email, city, bio, age, active, balance)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: InsertUsersJSON :many
-- sqlc has no multi-row VALUES of variable length and SQLite has no
-- arrays: one statement over a JSON array (json_each) is the way to insert
-- many rows with one sqlc query.
INSERT INTO bench_users (name, email, city, bio, age, active, balance)
SELECT json_extract(value, '$.name'), json_extract(value, '$.email'), json_extract(value, '$.city'),
       json_extract(value, '$.bio'), json_extract(value, '$.age'), json_extract(value, '$.active'),
       json_extract(value, '$.balance')
FROM json_each(?)
RETURNING id;

-- name: UpdateUser :execrows
UPDATE bench_users SET city = ?, balance = ? WHERE id = ?;

-- name: GetUser :one
SELECT id, name, email, city, bio, age, active, balance FROM bench_users WHERE id = ?;

-- name: ListUsers :many
SELECT id, name, email, city, bio, age, active, balance FROM bench_users ORDER BY id LIMIT ?;

-- name: ListPostsByUserIDs :many
SELECT id, user_id, title, likes FROM bench_posts WHERE user_id IN (sqlc.slice('user_ids'));
