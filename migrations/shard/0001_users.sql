-- 0001_users.sql -- users and the name directory, on every shard server.
-- A user row lives on the logical shard embedded in its id. The usernames
-- directory row for a name lives on the shard chosen by a hash of the
-- lower-cased name (DESIGN.md §2); a new user is placed on that same shard.
CREATE TABLE users (
  id              BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  name            VARCHAR(30) NOT NULL COLLATE utf8mb4_bin,
  password_hash   VARCHAR(255) NOT NULL,
  role            ENUM('user','admin') NOT NULL DEFAULT 'user',
  token_version   INT UNSIGNED NOT NULL DEFAULT 0,
  followers_count INT UNSIGNED NOT NULL DEFAULT 0,
  following_count INT UNSIGNED NOT NULL DEFAULT 0,
  tweets_count    INT UNSIGNED NOT NULL DEFAULT 0,
  created_at      DATETIME(3) NOT NULL,
  updated_at      DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE usernames (
  name_lc    VARCHAR(30) NOT NULL PRIMARY KEY,
  user_id    BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL,
  KEY usernames_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
