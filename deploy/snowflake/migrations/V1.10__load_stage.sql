-- The raw load (foodbank_platform/ingest/snowflake_load.py): the loader types and checks a batch of
-- landed files, stages its raw rows, quarantined rows and ledger rows here as Parquet (PUT), and
-- COPYs them into raw and audit in one transaction, each file purged once loaded. An internal stage:
-- the loader role needs no S3 access of its own. The loader also touches the ledger rows of files
-- delivered again (last_seen_at, source_mtime).
USE DATABASE {{ database }};
CREATE STAGE IF NOT EXISTS audit.loads
    COMMENT = 'Parquet of raw load batches, between PUT and the COPY of their transaction';
GRANT READ, WRITE ON STAGE audit.loads TO ROLE loader;
GRANT UPDATE ON TABLE audit.file_ledger TO ROLE loader;
