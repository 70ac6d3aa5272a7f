{#-
  Snapshots on Snowflake without MERGE and without a session-temporary staging table: a transient
  staging table in the snapshot's schema (dropped after the snapshot) and an UPDATE + INSERT in one
  explicit transaction. Same result as dbt's default on real Snowflake; and the Snowflake emulator
  the tests use (fakesnow) can run it, which it cannot with MERGE or a schema-qualified TEMPORARY table.
  DuckDB keeps dbt-duckdb's own implementation.
-#}
{% macro build_snapshot_staging_table(strategy, sql, target_relation) %}
    {%- set select = snapshot_staging_table(strategy, sql, target_relation) -%}
    {%- if target.type == 'snowflake' -%}
        {% set staging = make_temp_relation(target_relation) %}
        {% call statement('build_snapshot_staging_relation') %}
            create or replace transient table {{ staging }} as ({{ select }})
        {% endcall %}
    {%- else -%}
        {#- dbt-duckdb's own version (this root-project macro replaces it by name) -#}
        {% set temporary_relation = duckdb__dispatch_temporary_relation(target_relation) %}
        {% set staging = temporary_relation.relation %}
        {% call statement('build_snapshot_staging_relation') %}
            {{ create_table_as(temporary_relation.temporary, staging, select) }}
        {% endcall %}
    {%- endif -%}
    {% do return(staging) %}
{% endmacro %}
