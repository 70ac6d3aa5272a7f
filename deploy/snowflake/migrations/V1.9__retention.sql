-- 3 years hot: a raw partition (table, month of _loaded_at) older than 36 months is exported to the
-- archive stage as Parquet, verified there (row count and checksum, foodbank_platform/retention.py)
-- and only then deleted, in the same transaction as its audit.retention_log row. This view lists the
-- months that are due, so the retention asset (and an auditor) can see what is pending.
USE DATABASE {{ database }};
CREATE OR REPLACE VIEW audit.retention_due AS
SELECT raw_table, loaded_month
FROM (
    SELECT 'legacy_warehouse__shipments' AS raw_table, DATE_TRUNC('month', _loaded_at)::DATE AS loaded_month
    FROM raw.legacy_warehouse__shipments
    UNION
    SELECT 'wms__inventory_transactions', DATE_TRUNC('month', _loaded_at)::DATE FROM raw.wms__inventory_transactions
    UNION
    SELECT 'intake__donation_lines', DATE_TRUNC('month', _loaded_at)::DATE FROM raw.intake__donation_lines
    UNION
    SELECT 'intake__donations', DATE_TRUNC('month', _loaded_at)::DATE FROM raw.intake__donations
    UNION
    SELECT 'ordering__order_lines', DATE_TRUNC('month', _loaded_at)::DATE FROM raw.ordering__order_lines
    UNION
    SELECT 'ordering__orders', DATE_TRUNC('month', _loaded_at)::DATE FROM raw.ordering__orders
) AS partitions
WHERE loaded_month < DATE_TRUNC('month', DATEADD(month, -36, CURRENT_DATE()))
  AND (raw_table, loaded_month) NOT IN (SELECT raw_table, loaded_month FROM audit.retention_log);
