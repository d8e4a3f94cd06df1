-- 0003_shard_moves.sql -- the journal of roostctl shard move: one row per
-- move, its last completed step, so a move stopped at any step is resumed
-- (--resume) or rolled back (--abort) from where it was (app/roostctl/move.c).
CREATE TABLE shard_moves (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  first_shard SMALLINT UNSIGNED NOT NULL,
  last_shard  SMALLINT UNSIGNED NOT NULL,
  source      VARCHAR(64) NOT NULL,
  target      VARCHAR(64) NOT NULL,
  step        VARCHAR(16) NOT NULL,
  rows_copied BIGINT UNSIGNED NOT NULL DEFAULT 0,
  fenced_at   DATETIME(3) NULL,
  fence_ms    BIGINT UNSIGNED NULL,
  started_at  DATETIME(3) NOT NULL,
  updated_at  DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
