-- Functional roles. Each service user gets exactly one; people get ANALYST or FINANCE.
--   LOADER       COPY INTO raw, write audit (the Dagster runs' loader assets)
--   TRANSFORMER  dbt: reads raw/audit, owns staging, canonical, reconciliation, marts
--   ANALYST      read-only on marts (dashboards)
--   FINANCE      ANALYST + reconciliation (variances someone must act on)
--   PII_READER   sees donor email/phone unmasked (donor relations); granted to named people only
CREATE ROLE IF NOT EXISTS loader;
CREATE ROLE IF NOT EXISTS transformer;
CREATE ROLE IF NOT EXISTS analyst;
CREATE ROLE IF NOT EXISTS finance;
CREATE ROLE IF NOT EXISTS pii_reader;
GRANT ROLE analyst TO ROLE finance;
GRANT ROLE loader TO ROLE sysadmin;
GRANT ROLE transformer TO ROLE sysadmin;
GRANT ROLE finance TO ROLE sysadmin;
GRANT ROLE pii_reader TO ROLE sysadmin;

GRANT USAGE ON DATABASE {{ database }} TO ROLE loader;
GRANT USAGE ON DATABASE {{ database }} TO ROLE transformer;
GRANT USAGE ON DATABASE {{ database }} TO ROLE analyst;
GRANT USAGE ON WAREHOUSE ops_wh TO ROLE loader;
GRANT USAGE ON WAREHOUSE ops_wh TO ROLE transformer;
GRANT USAGE ON WAREHOUSE nightly_wh TO ROLE transformer;
GRANT USAGE ON WAREHOUSE nightly_wh TO ROLE loader;
GRANT USAGE ON WAREHOUSE bi_wh TO ROLE analyst;

-- loader: append to raw and audit, nothing else
GRANT USAGE ON SCHEMA {{ database }}.raw TO ROLE loader;
GRANT USAGE ON SCHEMA {{ database }}.audit TO ROLE loader;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA {{ database }}.raw TO ROLE loader;
GRANT SELECT, INSERT ON FUTURE TABLES IN SCHEMA {{ database }}.raw TO ROLE loader;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA {{ database }}.audit TO ROLE loader;
GRANT SELECT, INSERT ON FUTURE TABLES IN SCHEMA {{ database }}.audit TO ROLE loader;

-- transformer: read raw/audit, build everything downstream
GRANT USAGE ON SCHEMA {{ database }}.raw TO ROLE transformer;
GRANT USAGE ON SCHEMA {{ database }}.audit TO ROLE transformer;
GRANT SELECT ON ALL TABLES IN SCHEMA {{ database }}.raw TO ROLE transformer;
GRANT SELECT ON FUTURE TABLES IN SCHEMA {{ database }}.raw TO ROLE transformer;
GRANT SELECT, INSERT ON FUTURE TABLES IN SCHEMA {{ database }}.audit TO ROLE transformer;
GRANT ALL PRIVILEGES ON SCHEMA {{ database }}.staging TO ROLE transformer;
GRANT ALL PRIVILEGES ON SCHEMA {{ database }}.canonical TO ROLE transformer;
GRANT ALL PRIVILEGES ON SCHEMA {{ database }}.reconciliation TO ROLE transformer;
GRANT ALL PRIVILEGES ON SCHEMA {{ database }}.marts TO ROLE transformer;

-- analyst: marts, read-only
GRANT USAGE ON SCHEMA {{ database }}.marts TO ROLE analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA {{ database }}.marts TO ROLE analyst;
GRANT SELECT ON FUTURE TABLES IN SCHEMA {{ database }}.marts TO ROLE analyst;
GRANT SELECT ON ALL VIEWS IN SCHEMA {{ database }}.marts TO ROLE analyst;
GRANT SELECT ON FUTURE VIEWS IN SCHEMA {{ database }}.marts TO ROLE analyst;

-- finance: also the reconciliation variances
GRANT USAGE ON SCHEMA {{ database }}.reconciliation TO ROLE finance;
GRANT SELECT ON ALL TABLES IN SCHEMA {{ database }}.reconciliation TO ROLE finance;
GRANT SELECT ON FUTURE TABLES IN SCHEMA {{ database }}.reconciliation TO ROLE finance;
