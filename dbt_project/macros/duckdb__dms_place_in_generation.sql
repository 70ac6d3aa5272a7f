{#- dms_place_in_generation on DuckDB: a correlated lookup per row, no join fan-out to undo. -#}
{% macro duckdb__dms_place_in_generation(change, generations) -%}
        select change.*,
            case when change._is_cdc = 0
                 then (select g.started_at from ({{ generations }}) as g where g.generation = change._file_version)
                 else (select max(g.started_at) from ({{ generations }}) as g where g.started_at <= change.dms_commit_ts)
            end as _generation_started_at
        from {{ change }} as change
{%- endmacro %}
