-- The benchmark's tables on SQLite. Every library reads and writes these
-- tables; the bench creates them in a new database file in each benchmark
-- process.
CREATE TABLE bench_users (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL,
    email   TEXT    NOT NULL,
    city    TEXT    NOT NULL,
    bio     TEXT    NOT NULL,
    age     INTEGER NOT NULL,
    active  BOOLEAN NOT NULL,
    balance INTEGER NOT NULL
);

CREATE TABLE bench_posts (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES bench_users (id) ON DELETE CASCADE,
    title   TEXT    NOT NULL,
    likes   INTEGER NOT NULL
);

CREATE INDEX bench_posts_user_id_idx ON bench_posts (user_id);
