{#- DuckDB's regexp_extract returns '' when nothing matches: made NULL like Snowflake's. -#}
{% macro duckdb__regexp_group(string, pattern, group) -%}
    nullif(regexp_extract({{ string }}, '{{ pattern }}', {{ group }}), '')
{%- endmacro %}
