-- The audit schema: what was seen, loaded, rejected, restated and retired.
USE DATABASE {{ database }};
CREATE TABLE IF NOT EXISTS audit.file_ledger (
    raw_table VARCHAR NOT NULL,
    file_key VARCHAR NOT NULL,        -- landing key below the stage
    file_version NUMBER(38,0) NOT NULL,
    file_checksum VARCHAR NOT NULL,   -- sha256 of the bytes
    rows_loaded NUMBER(38,0),
    load_id VARCHAR NOT NULL,
    loaded_at TIMESTAMP_NTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS audit.quarantine (
    raw_table VARCHAR NOT NULL,
    file_key VARCHAR NOT NULL,
    row_number NUMBER(38,0),
    raw_text VARCHAR,
    reason VARCHAR NOT NULL,
    load_id VARCHAR,
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
