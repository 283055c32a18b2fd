-- The benchmark's tables on MySQL and MariaDB, with the column types forge's
-- MySQL dialect writes for the same model (LONGTEXT for text, BOOLEAN, a
-- BIGINT AUTO_INCREMENT key). Every library reads and writes these tables;
-- each benchmark process drops and recreates them.
CREATE TABLE bench_users (
    id      BIGINT   NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name    LONGTEXT NOT NULL,
    email   LONGTEXT NOT NULL,
    city    LONGTEXT NOT NULL,
    bio     LONGTEXT NOT NULL,
    age     INT      NOT NULL,
    active  BOOLEAN  NOT NULL,
    balance BIGINT   NOT NULL
) ENGINE = InnoDB;

CREATE TABLE bench_posts (
    id      BIGINT   NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT   NOT NULL,
    title   LONGTEXT NOT NULL,
    likes   BIGINT   NOT NULL,
    KEY bench_posts_user_id_idx (user_id),
    CONSTRAINT bench_posts_user_id_fkey FOREIGN KEY (user_id) REFERENCES bench_users (id) ON DELETE CASCADE
) ENGINE = InnoDB;
