-- The audit schema: what was seen, loaded, rejected, restated and retired.
USE DATABASE {{ database }};
-- Same columns as the local loader's ledger (foodbank_platform/ingest/ledger.py), so dbt's
-- stg_audit__file_ledger and every lineage query read one shape on either warehouse.
CREATE TABLE IF NOT EXISTS audit.file_ledger (
    source_table VARCHAR NOT NULL,      -- raw table it feeds
    file_identity VARCHAR NOT NULL,     -- landing key without the _versions/ prefix
    landing_key VARCHAR NOT NULL,       -- where these exact bytes are kept
    version NUMBER(38,0) NOT NULL,      -- 1 for the first bytes under this identity, then 2, 3, ...
    checksum VARCHAR NOT NULL,          -- sha256 of the bytes
    size_bytes NUMBER(38,0) NOT NULL,
    source_mtime FLOAT,
    first_seen_at TIMESTAMP_NTZ NOT NULL,
    last_seen_at TIMESTAMP_NTZ NOT NULL,
    status VARCHAR NOT NULL,            -- loaded | failed
    error VARCHAR,
    rows_read NUMBER(38,0),
    rows_loaded NUMBER(38,0),
    rows_quarantined NUMBER(38,0),
    rows_blank NUMBER(38,0),
    load_id VARCHAR,
    run_id VARCHAR,
    loaded_at TIMESTAMP_NTZ,
    PRIMARY KEY (file_identity, checksum)  -- informational in Snowflake; the loader checks it first
);
CREATE TABLE IF NOT EXISTS audit.quarantine (
    source_table VARCHAR NOT NULL,
    landing_key VARCHAR NOT NULL,
    file_version NUMBER(38,0) NOT NULL,
    file_checksum VARCHAR NOT NULL,
    row_number NUMBER(38,0),
    raw_text VARCHAR,
    reason VARCHAR NOT NULL,
    load_id VARCHAR NOT NULL,
    quarantined_at TIMESTAMP_NTZ NOT NULL
);
-- One row per raw partition (table, month of _loaded_at) that left Snowflake, with the evidence.
CREATE TABLE IF NOT EXISTS audit.retention_log (
    raw_table VARCHAR NOT NULL,
    loaded_month DATE NOT NULL,
    archive_uri VARCHAR NOT NULL,
    row_count NUMBER(38,0) NOT NULL,
    checksum VARCHAR NOT NULL,
    verified_at TIMESTAMP_NTZ NOT NULL,
    deleted_rows NUMBER(38,0) NOT NULL
);
