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
