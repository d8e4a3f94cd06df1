-- 0002_generator_claims.sql -- which roostd mints ids with which generator
-- numbers (lib/core/ids.h): one row per roostd, renewed while it runs
-- (lib/store/genclaim.h). Two hosts with overlapping generator blocks
-- could mint the same id; the second one to start is refused.
CREATE TABLE generator_claims (
  owner        VARCHAR(255) NOT NULL PRIMARY KEY,
  first_gen    SMALLINT UNSIGNED NOT NULL,
  last_gen     SMALLINT UNSIGNED NOT NULL,
  pid          INT UNSIGNED NOT NULL,
  claimed_at   DATETIME(3) NOT NULL,
  heartbeat_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
