-- 0004_shard_map.sql -- the shard map in the catalog (lib/store/catmap.h):
-- roostctl shard move writes each step's map here as a new generation, and
-- every roostd with `[shards] map = catalog` follows it and reports, in its
-- generator claim, the generation all its workers route with (NULL: a
-- roostd that follows its file only).
CREATE TABLE shard_map (
  id          TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  generation  BIGINT UNSIGNED NOT NULL,
  ranges      TEXT NOT NULL,
  fenced      TEXT NOT NULL,
  updated_at  DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE generator_claims ADD COLUMN map_generation BIGINT UNSIGNED NULL DEFAULT NULL;
