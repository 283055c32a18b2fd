-- name: InsertUser :one
INSERT INTO bench_users (name, email, city, bio, age, active, balance)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id;

-- name: InsertUsers :many
-- sqlc has no multi-row VALUES of variable length; one statement over
-- arrays (unnest) is its idiom for a bulk insert on PostgreSQL.
INSERT INTO bench_users (name, email, city, bio, age, active, balance)
SELECT unnest(@names::text[]), unnest(@emails::text[]), unnest(@cities::text[]), unnest(@bios::text[]),
       unnest(@ages::integer[]), unnest(@actives::boolean[]), unnest(@balances::bigint[])
RETURNING id;

-- name: UpdateUser :execrows
UPDATE bench_users SET city = $2, balance = $3 WHERE id = $1;

-- name: GetUser :one
SELECT id, name, email, city, bio, age, active, balance FROM bench_users WHERE id = $1;

-- name: ListUsers :many
SELECT id, name, email, city, bio, age, active, balance FROM bench_users ORDER BY id LIMIT $1;

-- name: ListPostsByUserIDs :many
SELECT id, user_id, title, likes FROM bench_posts WHERE user_id = ANY(@user_ids::bigint[]);
