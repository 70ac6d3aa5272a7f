{#-
  For an incremental staging table over an append-only raw table: the load time from which raw rows
  count as arrived (the table's newest `_source_loaded_at` less var `reprocess_overlap_minutes`), as
  a literal so the raw scans it filters can skip older row groups; or none to recompute everything: on
  a full build, on an empty table, and when raw holds rows matching `reload_filter` loaded since (a
  DMS full load starts a new generation, which changes every key).
-#}
{% macro arrived_since(source_relation, reload_filter=none) -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set probe -%}
        with watermark as (
            select {{ dbt.dateadd('minute', -var('reprocess_overlap_minutes'), 'max(_source_loaded_at)') }} as since
            from {{ this }}
        )
        select
            cast(watermark.since as {{ dbt.type_string() }}),
            {%- if reload_filter %}
            (select count(*) from {{ source_relation }} as r
             where ({{ reload_filter }}) and r._loaded_at >= watermark.since)
            {%- else %}
            0
            {%- endif %}
        from watermark
    {%- endset -%}
    {%- set row = run_query(probe).rows[0] -%}
    {%- if row[0] is none or row[1] > 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(row[0]) }}
{%- endmacro %}
