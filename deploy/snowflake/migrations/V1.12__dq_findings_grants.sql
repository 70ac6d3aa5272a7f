-- The data-quality checks (foodbank_platform/quality.py, run as Dagster asset checks by the runs' role)
-- write their findings to audit.dq_<check>: each table takes the shape of its check's query, so the
-- check creates it (outside any transaction, as Snowflake commits DDL) rather than a migration, and
-- evaluates into a session-temporary table in audit first. The runs' role gets the CREATE TABLE that
-- needs; it owns the dq tables it creates, hence may replace and delete from them.
USE DATABASE {{ database }};
GRANT CREATE TABLE ON SCHEMA {{ database }}.audit TO ROLE transformer;
