-- Fewer index entries for each new tip (issue 20). reports_target_key (target_key) is a
-- prefix of reports_target_region (target_key, case_region), which serves every lookup by
-- target_key. (SQLite's migration also stores three tables in their primary keys; a
-- PostgreSQL table is a heap and its key an index either way.)
DROP INDEX reports_target_key;
