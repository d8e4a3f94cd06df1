-- 0004_follows.sql -- follows are stored twice (DESIGN.md §2): on the
-- follower's shard (who I follow) and on the followee's shard (who follows
-- me). `id` is a k-sorted id minted at follow time, so lists come newest
-- first and page by cursor at any depth.
CREATE TABLE follows_out (
  follower_id BIGINT UNSIGNED NOT NULL,
  followee_id BIGINT UNSIGNED NOT NULL,
  id          BIGINT UNSIGNED NOT NULL,
  created_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (follower_id, followee_id),
  KEY follows_out_list (follower_id, id)
) ENGINE=InnoDB;

CREATE TABLE follows_in (
  followee_id BIGINT UNSIGNED NOT NULL,
  follower_id BIGINT UNSIGNED NOT NULL,
  id          BIGINT UNSIGNED NOT NULL,
  created_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (followee_id, follower_id),
  KEY follows_in_list (followee_id, id)
) ENGINE=InnoDB;
