-- File database in the preopened directory: created, filled in transactions, indexed,
-- updated, vacuumed; the file itself is compared between the runtimes.
PRAGMA page_size = 4096;
PRAGMA journal_mode = DELETE;
-- WASI has no temporary directory: VACUUM of a bigger database needs temp_store MEMORY.
PRAGMA temp_store = MEMORY;
CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB, n INTEGER) WITHOUT ROWID;
CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, msg TEXT);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :N:)
INSERT INTO kv SELECT printf('key%06d', i * 31 % 1000003), zeroblob(i % 200), i FROM n;
INSERT INTO log(msg) VALUES ('filled');
COMMIT;
CREATE INDEX kv_n ON kv(n);
BEGIN;
UPDATE kv SET v = randomblob(0) || x'cafe' WHERE n % 3 = 0;
DELETE FROM kv WHERE n % 5 = 0;
INSERT INTO log(msg) VALUES ('updated');
ROLLBACK;
BEGIN;
DELETE FROM kv WHERE n % 7 = 0;
INSERT INTO log(msg) VALUES ('deleted sevens');
COMMIT;
VACUUM;
SELECT count(*), sum(n), sum(length(v)), min(k), max(k) FROM kv;
SELECT * FROM log;
PRAGMA page_count;
PRAGMA integrity_check;
