-- 0002_tweets.sql -- tweets live on their author's shard.
CREATE TABLE tweets (
  id         BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  user_id    BIGINT UNSIGNED NOT NULL,
  message    VARCHAR(280) NOT NULL,
  edited     TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  KEY tweets_user (user_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
