-- Retention (foodbank_platform/retention.py, the monthly asset audit/retention): the run reads a raw
-- partition over Arrow, writes it as Parquet to s3://<archive>/warehouse/ with its own S3 client (the run
-- role's grant), verifies it there, and only then deletes the partition from raw in the same transaction
-- as its audit.retention_log row. The raw tables' writer gets the DELETE that step needs (it has INSERT
-- on audit already, V1.3).
USE DATABASE {{ database }};
GRANT DELETE ON ALL TABLES IN SCHEMA {{ database }}.raw TO ROLE loader;
GRANT DELETE ON FUTURE TABLES IN SCHEMA {{ database }}.raw TO ROLE loader;
