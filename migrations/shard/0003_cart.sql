-- 0003_cart.sql -- cart items live on their owner's shard; one item per
-- (user, product), so adding a product twice merges quantities.
CREATE TABLE cart_items (
  id         BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  user_id    BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  quantity   SMALLINT UNSIGNED NOT NULL,
  state      ENUM('active','saved') NOT NULL DEFAULT 'active',
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY cart_user_product (user_id, product_id),
  KEY cart_user (user_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
