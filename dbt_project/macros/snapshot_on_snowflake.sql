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

{% macro snowflake__post_snapshot(staging_relation) %}
    {% do drop_relation_if_exists(staging_relation) %}
{% endmacro %}

{% macro snowflake__snapshot_merge_sql(target, source, insert_cols) -%}
    {%- set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() -%}
    {%- set dml -%}
    update {{ target }} as DBT_INTERNAL_TARGET
    set {{ columns.dbt_valid_to }} = DBT_INTERNAL_SOURCE.{{ columns.dbt_valid_to }}
    from {{ source }} as DBT_INTERNAL_SOURCE
    where DBT_INTERNAL_SOURCE.{{ columns.dbt_scd_id }} = DBT_INTERNAL_TARGET.{{ columns.dbt_scd_id }}
      and DBT_INTERNAL_SOURCE.dbt_change_type in ('update', 'delete')
      and DBT_INTERNAL_TARGET.{{ columns.dbt_valid_to }} is null;

    insert into {{ target }} ({{ insert_cols | join(', ') }})
    select {% for column in insert_cols %}DBT_INTERNAL_SOURCE.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ source }} as DBT_INTERNAL_SOURCE
    where DBT_INTERNAL_SOURCE.dbt_change_type = 'insert'
    {%- endset -%}
    {{ return(snowflake_dml_explicit_transaction(dml)) }}
{%- endmacro %}
