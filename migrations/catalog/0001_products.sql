-- 0001_products.sql -- the product catalog (unsharded, read-mostly).
-- Names are unique without regard to case: the unique key uses a
-- case-insensitive, accent-sensitive collation.
CREATE TABLE products (
  id          BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  name        VARCHAR(100) NOT NULL COLLATE utf8mb4_uca1400_as_ci,
  price       INT UNSIGNED NOT NULL,
  img         VARCHAR(255) NOT NULL DEFAULT '',
  description VARCHAR(2000) NOT NULL DEFAULT '',
  state       ENUM('active','inactive') NOT NULL DEFAULT 'active',
  created_at  DATETIME(3) NOT NULL,
  updated_at  DATETIME(3) NOT NULL,
  UNIQUE KEY products_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
