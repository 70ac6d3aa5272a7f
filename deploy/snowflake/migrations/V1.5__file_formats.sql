-- One file format per contract format (docs/source_contracts.md).
USE DATABASE {{ database }};
-- DMS CSV: header row, RFC 4180 quoting (text may contain newlines), NULL is the unquoted \N and an
-- empty quoted string stays '' (EMPTY_FIELD_AS_NULL = FALSE), UTF-8, \n rows. A column added at the
-- end of a table appears only in newer files: ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE lets old and new
-- files load through the same positional COPY.
CREATE FILE FORMAT IF NOT EXISTS raw.dms_csv
    TYPE = CSV FIELD_DELIMITER = ',' RECORD_DELIMITER = '\n' SKIP_HEADER = 1
    FIELD_OPTIONALLY_ENCLOSED_BY = '"' ESCAPE_UNENCLOSED_FIELD = NONE
    NULL_IF = ('\\N') EMPTY_FIELD_AS_NULL = FALSE ENCODING = 'UTF8'
    ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE COMPRESSION = NONE;
-- Legacy warehouse CSV: Windows-1252, CRLF, empty means NULL (route_id of a pickup).
CREATE FILE FORMAT IF NOT EXISTS raw.legacy_csv
    TYPE = CSV FIELD_DELIMITER = ',' RECORD_DELIMITER = '\r\n' SKIP_HEADER = 1
    FIELD_OPTIONALLY_ENCLOSED_BY = '"' ENCODING = 'WINDOWS1252' EMPTY_FIELD_AS_NULL = TRUE
    TRIM_SPACE = FALSE COMPRESSION = NONE;
-- Manual adjustments: Excel's UTF-8 with a byte-order mark. Trailing ",,,,," rows load as all-NULL
-- rows (a COPY transformation has no WHERE); staging drops rows without an adjustment_id.
CREATE FILE FORMAT IF NOT EXISTS raw.adjustments_csv
    TYPE = CSV FIELD_DELIMITER = ',' SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '"'
    SKIP_BYTE_ORDER_MARK = TRUE ENCODING = 'UTF8' EMPTY_FIELD_AS_NULL = TRUE SKIP_BLANK_LINES = TRUE
    TRIM_SPACE = TRUE COMPRESSION = NONE;
-- USDA TEFAP: pipe-delimited, no quoting at all, UTF-8.
CREATE FILE FORMAT IF NOT EXISTS raw.tefap_pipe
    TYPE = CSV FIELD_DELIMITER = '|' SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = NONE
    ESCAPE_UNENCLOSED_FIELD = NONE ENCODING = 'UTF8' EMPTY_FIELD_AS_NULL = TRUE COMPRESSION = NONE;
-- Retention exports are Parquet: typed, compressed, and readable back for verification.
CREATE FILE FORMAT IF NOT EXISTS audit.archive_parquet TYPE = PARQUET;
