{#- dbt-duckdb's safe_cast is a plain CAST, which fails the whole model on one bad value;
    TRY_CAST gives NULL like Snowflake's TRY_CAST and the null tests then say where. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
