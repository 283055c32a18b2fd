-- name: InsertUser :execlastid
INSERT INTO bench_users (name, email, city, bio, age, active, balance)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- No insert-100 query: sqlc's MySQL engine parses neither a multi-row
-- VALUES list of variable length nor JSON_TABLE, and MySQL has no arrays;
-- its :copyfrom (LOAD DATA LOCAL INFILE) returns no ids.

-- name: UpdateUser :execrows
UPDATE bench_users SET city = ?, balance = ? WHERE id = ?;

-- name: GetUser :one
SELECT id, name, email, city, bio, age, active, balance FROM bench_users WHERE id = ?;

-- name: ListUsers :many
SELECT id, name, email, city, bio, age, active, balance FROM bench_users ORDER BY id LIMIT ?;

-- name: ListPostsByUserIDs :many
SELECT id, user_id, title, likes FROM bench_posts WHERE user_id IN (sqlc.slice('user_ids'));
