# The one image of the platform: Dagster webserver, daemon and every run (deploy/infra, EcsRunLauncher).
# Slim Python 3.11, dependencies in a virtualenv built in a first stage, a non-root user, and the dbt
# manifest prepared at build time so no run parses the dbt project on start.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/dagster/app
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY foodbank_platform ./foodbank_platform
# Exact pins from pyproject.toml; `prod` adds dagster-postgres for the run/event storage.
RUN /opt/venv/bin/pip install ".[prod]"
COPY dbt_project ./dbt_project
# The manifest the dbt assets load, prepared the way `make manifest` does (`foodbank manifest`, the dbt
# of this venv), against the Snowflake target: the profile only needs to render, no connection is made.
# `python -m` from the app folder, so the package finds dbt_project/ beside it.
RUN FOODBANK_ENV=prod FOODBANK_WAREHOUSE=snowflake SNOWFLAKE_ACCOUNT=build SNOWFLAKE_USER=build /opt/venv/bin/python -m foodbank_platform.cli manifest \
 && test -s dbt_project/target/manifest.json \
 && rm -rf dbt_project/logs

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DAGSTER_HOME=/opt/dagster/home FOODBANK_ENV=prod FOODBANK_DBT_TARGET=snowflake
RUN groupadd --system --gid 10001 dagster \
 && useradd --system --uid 10001 --gid dagster --home-dir /opt/dagster --shell /usr/sbin/nologin dagster
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=dagster:dagster /opt/dagster/app /opt/dagster/app
COPY --chown=dagster:dagster deploy/dagster.yaml /opt/dagster/home/dagster.yaml
COPY --chown=dagster:dagster deploy/workspace.yaml /opt/dagster/app/deploy/workspace.yaml
COPY --chmod=755 deploy/entrypoint.sh /usr/local/bin/foodbank-entrypoint
# The manifest is built above; nothing at run time may rewrite it.
RUN test -s /opt/dagster/app/dbt_project/target/manifest.json
WORKDIR /opt/dagster/app
USER dagster
EXPOSE 3000
# ECS health is the service's job (webserver: port 3000; daemon: heartbeats in Postgres).
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/foodbank-entrypoint"]
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "/opt/dagster/app/deploy/workspace.yaml"]
