-- One database, one schema per layer of the flow (docs/design.md): raw -> staging -> canonical ->
-- reconciliation, marts; audit holds the file ledger, quarantine, restatements and retention log.
-- Run by schemachange as the deploy role (deploy/README.md); {{ database }} comes from its vars.
CREATE DATABASE IF NOT EXISTS {{ database }};
-- 7 days of time travel on everything: undo a bad backfill without a restore.
ALTER DATABASE {{ database }} SET DATA_RETENTION_TIME_IN_DAYS = 7;
USE DATABASE {{ database }};
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS canonical;
CREATE SCHEMA IF NOT EXISTS reconciliation;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS audit;
