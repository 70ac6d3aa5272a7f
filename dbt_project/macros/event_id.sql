{#- Deterministic event id: the same source record, leg and reversal flag always hash to the same
    id, so a rebuild or a replay yields the same ids and a duplicate can never hide as a new event. -#}
{% macro event_id(source_system, source_record_id, leg, is_reversal) -%}
    {{ dbt.hash(dbt.concat([source_system, "'|'", source_record_id, "'|'", leg, "'|'",
        "case when " ~ is_reversal ~ " then 'R' else 'P' end"])) }}
{%- endmacro %}
