-- Two paths, two warehouses, so the nightly finance build never queues behind (or slows) the
-- 10-minute operational refresh, and each bill is visible on its own.
-- OPS_WH: X-Small; each 10-minute run loads a few thousand rows and refreshes incremental models
-- in about a minute, and auto-suspend after 60 s (Snowflake's minimum billing) keeps the idle
-- time between runs free.
CREATE WAREHOUSE IF NOT EXISTS ops_wh WITH
    WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
    MAX_CLUSTER_COUNT = 1 STATEMENT_TIMEOUT_IN_SECONDS = 900
    COMMENT = '10-minute path: raw loads and incremental canonical/ops models';
-- NIGHTLY_WH: Small; the full reconciliation of the day (roll-forward, three-way matches, marts)
-- finishes in well under an hour and must be done by 06:00 Pacific.
CREATE WAREHOUSE IF NOT EXISTS nightly_wh WITH
    WAREHOUSE_SIZE = 'SMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
    MAX_CLUSTER_COUNT = 1 STATEMENT_TIMEOUT_IN_SECONDS = 7200
    COMMENT = 'nightly path: reconciliations, marts, retention';
-- BI_WH: dashboards and analysts, X-Small, suspended whenever nobody looks.
CREATE WAREHOUSE IF NOT EXISTS bi_wh WITH
    WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 300 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
    MAX_CLUSTER_COUNT = 1 STATEMENT_TIMEOUT_IN_SECONDS = 600
    COMMENT = 'dashboards and ad-hoc analysis';
-- A monthly credit ceiling: the budget guard-rail (deploy/cost.py models ~half of it).
CREATE RESOURCE MONITOR IF NOT EXISTS foodbank_monthly WITH CREDIT_QUOTA = 1200 FREQUENCY = MONTHLY
    START_TIMESTAMP = IMMEDIATELY TRIGGERS ON 80 PERCENT DO NOTIFY ON 100 PERCENT DO SUSPEND;
ALTER WAREHOUSE ops_wh SET RESOURCE_MONITOR = foodbank_monthly;
ALTER WAREHOUSE nightly_wh SET RESOURCE_MONITOR = foodbank_monthly;
ALTER WAREHOUSE bi_wh SET RESOURCE_MONITOR = foodbank_monthly;
