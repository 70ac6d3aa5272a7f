-- The runs' role. One Dagster run task, with one Snowflake user, loads raw (PUT + COPY into raw and
-- audit, V1.10), retires raw partitions (DELETE on raw, V1.11), writes the checks' audit.dq_* tables
-- (V1.12) and runs dbt: LOADER's privileges and TRANSFORMER's together, and no more. RUNNER is granted
-- those two roles rather than either being granted the other, so LOADER stays append-to-raw and
-- TRANSFORMER stays dbt (read raw/audit, build downstream) for whoever else holds them. The service
-- user foodbank_runner (deploy/README.md, step 5) holds RUNNER only; the daemon's sensors use it too.
CREATE ROLE IF NOT EXISTS runner;
GRANT ROLE loader TO ROLE runner;
GRANT ROLE transformer TO ROLE runner;
GRANT ROLE runner TO ROLE sysadmin;
