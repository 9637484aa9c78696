-- Most tips name no institution code, so after ANALYZE a full index on reports.target_code
-- looks unselective (one value, NULL, on nearly every row) and the planner scanned the table
-- for a code instead (issue 18 part 4: the related-tips lookup at 1,000,000 cases). The
-- index holds only the rows that have a code; a lookup by code (`target_code = $n`) uses it.
DROP INDEX reports_target_code;
CREATE INDEX reports_target_code ON reports (target_code) WHERE target_code IS NOT NULL;
