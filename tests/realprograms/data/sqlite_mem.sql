-- In-memory database: schema, bulk insert through a recursive CTE, indexes, joins,
-- aggregates, window functions, JSON, triggers, views, transactions. :N: is the scale.
.headers on
.mode list
CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL, cat INTEGER, price REAL, note TEXT);
CREATE TABLE cat(id INTEGER PRIMARY KEY, label TEXT UNIQUE);
CREATE TABLE audit(item INTEGER, old REAL, new REAL);
CREATE TRIGGER price_change AFTER UPDATE OF price ON item BEGIN
  INSERT INTO audit VALUES (old.id, old.price, new.price);
END;
INSERT INTO cat(label) VALUES ('tools'), ('food'), ('books'), ('toys'), ('misc');
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :N:)
INSERT INTO item(name, cat, price, note)
  SELECT printf('item-%05d', (i * 7919) % 100003), 1 + i % 5, round((i * 37 % 1000) / 7.0, 2),
         CASE WHEN i % 11 = 0 THEN NULL ELSE hex(randomblob(0) || zeroblob(i % 4)) END
  FROM n;
COMMIT;
CREATE INDEX item_cat_price ON item(cat, price);
SELECT count(*), sum(price), round(avg(price), 4), min(name), max(name), count(note) FROM item;
SELECT c.label, count(*) AS n, round(sum(i.price), 2) AS total, max(i.price)
  FROM item i JOIN cat c ON c.id = i.cat GROUP BY c.label ORDER BY total DESC;
SELECT name, price, rank() OVER (PARTITION BY cat ORDER BY price DESC, id) AS r
  FROM item WHERE cat = 3 ORDER BY r LIMIT 5;
SELECT id, price, round(sum(price) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 2) AS running
  FROM item ORDER BY id LIMIT 6;
UPDATE item SET price = price * 1.1 WHERE id % 97 = 0;
SELECT count(*), round(sum(new - old), 4) FROM audit;
DELETE FROM item WHERE price < 10;
SELECT changes(), total_changes() > 0;
CREATE VIEW expensive AS SELECT cat, name, price FROM item WHERE price > 140;
SELECT cat, count(*), group_concat(substr(name, 6), ' ') FROM (SELECT * FROM expensive ORDER BY name LIMIT 20) GROUP BY cat;
SELECT json_object('n', count(*), 'cats', json_group_array(DISTINCT cat)) FROM item;
SELECT json_extract('{"a":[1,2,{"b":"x"}],"c":3.5}', '$.a[2].b'), json_array_length('[1,2,3,[4]]'),
       json('{"z": [1, 2.50, "s"] }');
SELECT key, value FROM json_each('{"k1": 1, "k2": [true, null], "k3": "v"}');
SELECT upper('straße'), lower('ÀÉÎ'), length('日本語'), instr('hello world', 'o w'), replace('aaa', 'a', 'bb'),
       substr('abcdef', -3, 2), trim('  x  '), quote('it''s'), unicode('€'), char(72, 105);
SELECT 7 / 2, 7 % 3, -7 / 2, 7.0 / 2, 1e308 * 10, cast('12abc' AS INTEGER), cast(3.99 AS INTEGER),
       abs(-9223372036854775807), typeof(1), typeof(1.0), typeof('x'), typeof(x'00'), typeof(NULL);
SELECT date('2024-02-28', '+1 day'), datetime('2000-01-01 12:00:00', '+36 hours'), strftime('%j %w', '2023-12-31'),
       julianday('2024-03-01') - julianday('2024-02-01');
SELECT printf('%08.3f|%-6s|%x|%e|%c', 3.14159, 'ab', 255, 12345.678, 'z');
WITH RECURSIVE fib(a, b, k) AS (SELECT 0, 1, 0 UNION ALL SELECT b, a + b, k + 1 FROM fib WHERE k < 80)
SELECT max(a) FROM fib;
SELECT sqlite_version();
PRAGMA integrity_check;
