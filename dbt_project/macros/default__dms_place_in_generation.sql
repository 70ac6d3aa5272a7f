{#- dms_place_in_generation on Snowflake: join every generation a row may belong to, keep the latest. -#}
{% macro default__dms_place_in_generation(change, generations) -%}
        select change.*, generation.started_at as _generation_started_at
        from {{ change }} as change
        left join ({{ generations }}) as generation
            on (change._is_cdc = 0 and generation.generation = change._file_version)
            or (change._is_cdc = 1 and generation.started_at <= change.dms_commit_ts)
        qualify row_number() over (
            partition by change._file, change._file_version, change._row_number
            order by generation.started_at desc) = 1
{%- endmacro %}
